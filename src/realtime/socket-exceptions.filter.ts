import { Catch, Logger, type ArgumentsHost, type WsExceptionFilter } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ERROR_EVENT, envelopeOf } from './socket-errors.js';

/**
 * Errors escaping a socket message handler (a pipe, a guard, a bug): the
 * envelope of PROTOCOL.md as an `exception` event, and nothing else. Nest's
 * own handler would echo the message's data (an access token!) back.
 */
@Catch()
export class SocketExceptionsFilter implements WsExceptionFilter {
  private readonly logger = new Logger('Realtime');

  catch(exception: unknown, host: ArgumentsHost): void {
    const socket = host.switchToWs().getClient<Socket>();
    socket.emit(ERROR_EVENT, envelopeOf(exception, socket.request, this.logger));
  }
}
