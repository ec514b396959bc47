import { describe, expect, it } from '@jest/globals';
import { canTransition, QR_TRANSITIONS, TERMINAL, type QrStatus } from '../../../src/qr-login/qr-session.js';

const ALL: QrStatus[] = ['pending', 'scanned', 'confirmed', 'consumed', 'cancelled', 'expired'];

describe('QR state machine', () => {
  it('allows exactly the transitions of PROTOCOL.md', () => {
    const allowed = ALL.flatMap((from) => ALL.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`));
    expect(allowed.sort()).toEqual(
      [
        'pending→scanned',
        'scanned→confirmed',
        'confirmed→consumed',
        'pending→cancelled',
        'scanned→cancelled',
        'confirmed→cancelled',
        'pending→expired',
        'scanned→expired',
        'confirmed→expired',
      ].sort(),
    );
  });

  it('has no way out of a terminal state', () => {
    for (const status of TERMINAL) expect(QR_TRANSITIONS[status]).toEqual([]);
    expect([...TERMINAL].sort()).toEqual(['cancelled', 'consumed', 'expired']);
  });
});
