export { createQrLogin, QrLogin } from './qr-login.js';
export type { QrLoginEvents, QrLoginOptions, QrSessionInfo, QrStatusEvent, Transport } from './qr-login.js';
export type { CreatedQrSession, Exchanged, QrStatus, QrStatusBody, SignedInUser } from './api.js';
export { ScanGateError } from './errors.js';
export { requestJson, type JsonRequest } from './http.js';
