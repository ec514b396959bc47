import { AppError } from '../common/index.js';

type QrCode =
  | 'qr.not_found'
  | 'qr.expired'
  | 'qr.already_scanned'
  | 'qr.wrong_state'
  | 'qr.not_scanner'
  | 'qr.match_mismatch'
  | 'qr.consumed';

const MESSAGES: Record<QrCode, string> = {
  'qr.not_found': 'No such QR code.',
  'qr.expired': 'This QR code has expired; request a new one.',
  'qr.already_scanned': 'This QR code was already scanned by another device.',
  'qr.wrong_state': 'This step does not fit the QR code’s current state.',
  'qr.not_scanner': 'Only the device that scanned this QR code can do this.',
  'qr.match_mismatch': 'That is not the number shown on the screen; the sign-in was cancelled.',
  'qr.consumed': 'This QR code was already used to sign in.',
};

/** A QR-login domain error; its code maps to HTTP through ERROR_STATUS. */
export class QrLoginError extends AppError<QrCode> {
  constructor(code: QrCode) {
    super(code, MESSAGES[code]);
  }
}
