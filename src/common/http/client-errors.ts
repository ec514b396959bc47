import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorEnvelope } from '../errors/error-codes.js';

/** What Node's HTTP parser reports when it refuses a request (`err.code`). */
const MESSAGES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: 'The request line and headers are too large.',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'The request body is too large.',
};

/**
 * Requests Node's HTTP parser refuses before any middleware runs (a request
 * line and headers over `--max-http-header-size`, 16 KB by default, e.g. a
 * long query string; malformed HTTP) get the error envelope and an
 * `X-Request-Id` like every other error (PROTOCOL.md § Errors), instead of
 * Node's bare `431`/`400`. As in AllExceptionsFilter, a 4xx without a code of
 * its own is `400 validation.failed`.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW';
    const requestId = randomUUID();
    const envelope: ErrorEnvelope = {
      code: tooLarge ? 'payload_too_large' : 'validation.failed',
      message: MESSAGES[err.code ?? ''] ?? 'The request is not valid HTTP.',
      requestId,
    };
    const body = JSON.stringify(envelope);
    socket.end(
      `HTTP/1.1 ${tooLarge ? '413 Payload Too Large' : '400 Bad Request'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Cache-Control: no-store\r\n' +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}
