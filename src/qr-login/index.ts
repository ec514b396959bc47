/** The public face of `qr-login/`: what other modules may import (anything else is internal). */
export { QR_ID } from './dto/qr-login.schemas.js';
export { QrEventsHub } from './qr-events.hub.js';
export { QrLoginError } from './qr-login.errors.js';
export { QrLoginModule } from './qr-login.module.js';
export { type QrEvent, type QrStatus, type QrStatusView, TERMINAL, viewOfEvent } from './qr-session.js';
export { QrHistory, type QrSessionRow } from './qr-history.js';
export { QrStatusService } from './qr-status.service.js';
