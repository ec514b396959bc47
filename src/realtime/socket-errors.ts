import type { Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Namespace, Socket } from 'socket.io';
import { errorEnvelope, type ErrorEnvelope } from '../common/index.js';

import { requestIdOf } from '../logging/index.js';

/** The event that carries an error envelope to a connected socket (as Nest's own WebSocket filter names it). */
export const ERROR_EVENT = 'exception' as const;

/**
 * A refused handshake as Socket.IO delivers it (`connect_error`): `message` is
 * the error code (`qr.not_found`, `auth.unauthenticated`, …) and `data` the
 * envelope of PROTOCOL.md, from the same mapping as the HTTP answers. The
 * request id is the handshake's `X-Request-Id` when it sent a usable one.
 */
function handshakeError(exception: unknown, request: IncomingMessage, logger: Logger): Error & { data: ErrorEnvelope } {
  const envelope = envelopeOf(exception, request, logger);
  return Object.assign(new Error(envelope.code), { data: envelope });
}

/** The envelope of an error met while serving a socket (logged when unexpected). */
export function envelopeOf(exception: unknown, request: IncomingMessage, logger: Logger): ErrorEnvelope {
  const requestId = requestIdOf(request);
  const { envelope } = errorEnvelope(exception, requestId);
  if (envelope.code === 'internal') {
    logger.error(
      { err: exception instanceof Error ? exception : new Error(String(exception)), requestId },
      'Unexpected error on a socket',
    );
  }
  return envelope;
}

/**
 * Runs `admit` for every handshake of `nsp` before its connection: a throw
 * refuses the socket with `handshakeError` (and `refused` hears the code).
 */
export function admitHandshakes(
  nsp: Namespace,
  admit: (socket: Socket) => Promise<void>,
  refused: (code: string) => void,
  logger: Logger,
): void {
  nsp.use((socket, next) => {
    admit(socket).then(
      () => next(),
      (error: unknown) => {
        const refusal = handshakeError(error, socket.request, logger);
        refused(refusal.message);
        next(refusal);
      },
    );
  });
}
