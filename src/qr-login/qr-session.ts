/** The states of a QR login (PROTOCOL.md § QR login with our own app). */
import type { QrStatus, QrStatusView } from '@scangate/protocol';

export type { QrStatus, QrStatusView };

/**
 * The one table of allowed transitions. Every change of a QR session is one
 * compare-and-set in the store from a state to one of these.
 */
export const QR_TRANSITIONS: Readonly<Record<QrStatus, readonly QrStatus[]>> = {
  pending: ['scanned', 'cancelled', 'expired'],
  scanned: ['confirmed', 'cancelled', 'expired'],
  // confirmed → cancelled: the approving phone's session was revoked before the exchange.
  confirmed: ['consumed', 'cancelled', 'expired'],
  consumed: [],
  cancelled: [],
  expired: [],
};

export const TERMINAL: ReadonlySet<QrStatus> = new Set(['consumed', 'cancelled', 'expired']);

export function canTransition(from: QrStatus, to: QrStatus): boolean {
  return QR_TRANSITIONS[from].includes(to);
}

/** Who asked to sign in: captured at creation, shown to the phone at scan. */
export interface Requester {
  ip: string | null;
  browser: string | null;
  os: string | null;
  deviceType: string | null;
  createdAt: string;
  location: string | null;
  /** Autonomous system of the IP, when a GeoIP ASN database says so. */
  asn?: number | null;
  /** ISO country code, when known (risk assessment). */
  country?: string | null;
}

/** The phone that scanned: the only one allowed to confirm or cancel. */
interface Scanner {
  userId: string;
  sessionId: string;
  deviceId: string;
  ip: string | null;
  scannedAt: string;
}

/** A QR login as stored (Redis or in-process), one JSON value per session. */
export interface QrSessionRecord {
  id: string;
  /** base64url SHA-256 of the poll token: the token itself is never stored. */
  pollTokenHash: string;
  status: QrStatus;
  version: number;
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  returnTo: string | null;
  matchCode: string | null;
  matchChoices: string[] | null;
  requester: Requester;
  scanner: Scanner | null;
  /** Why it was cancelled: `declined`, `match_mismatch`, `approver_revoked`. */
  cancelReason?: string;
  /** The web session an exchange created. */
  webSessionId?: string;
  /** Held by an exchange making its web session (internal: never shown, no version of its own). */
  exchange?: { claim: string; until: number };
}

/** What the browser may see before `exchange`: no personal data at all. */

export function statusView(record: Pick<QrSessionRecord, 'id' | 'status' | 'version' | 'expiresAt'>): QrStatusView {
  return {
    id: record.id,
    status: record.status,
    version: record.version,
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
}

/**
 * What the store publishes on every change: the status view, plus (for
 * routing inside the servers only) the device session of the phone that
 * scanned, so its own socket hears of the session too. Never sent as is:
 * browsers get `viewOfEvent`.
 */
export interface QrEvent extends QrStatusView {
  scannerSessionId: string | null;
}

export function qrEvent(record: QrSessionRecord): QrEvent {
  return { ...statusView(record), scannerSessionId: record.scanner?.sessionId ?? null };
}

export function viewOfEvent(event: QrStatusView): QrStatusView {
  return { id: event.id, status: event.status, version: event.version, expiresAt: event.expiresAt };
}

/** Length of a QR id's reference in the audit trail: all it keeps of the id (never enough to poll or exchange). */
const QR_REF_LENGTH = 8;

/** How the audit trail (and the history rebuilt from it) names a QR session: the first characters of its id. */
export function qrRef(id: string): string {
  return id.slice(0, QR_REF_LENGTH);
}
