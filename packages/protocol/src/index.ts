// The wire types of PROTOCOL.md, written once. Types only: nothing here exists
// at run time, so every user imports it with `import type`.

/** A QR session's state (PROTOCOL.md § QR login). */
export type QrStatus = 'pending' | 'scanned' | 'confirmed' | 'consumed' | 'cancelled' | 'expired';

/** What the browser learns of a QR session: the status route's body and the `qr.status` socket event. */
export interface QrStatusView {
  id: string;
  status: QrStatus;
  version: number;
  /** ISO-8601. */
  expiresAt: string;
}

/** `POST /api/v1/qr-sessions` → 201. */
export interface CreatedQrSession extends QrStatusView {
  status: 'pending';
  /** The browser's secret for status, socket and exchange; never shown in the QR. */
  pollToken: string;
  qrContent: string;
  qrImage: { svg: string; png: string };
  pollIntervalMs: number;
  /** The number the phone must pick, when number matching is on. */
  matchCode?: string;
}

/** The user a sign-in answers with. */
export interface SignedInUser {
  id: string;
  displayName: string;
  avatarUrl?: string | null;
}

/** `POST /api/v1/qr-sessions/{id}/exchange` → 200 (the refresh token goes in the cookie, never in the body). */
export interface Exchanged {
  user: SignedInUser;
  accessToken: string;
  expiresIn: number;
}

/** One field's problem in a `validation.failed` (or another) error. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/** Every error's body, over HTTP and on the sockets (PROTOCOL.md § Errors). */
export interface ErrorEnvelope {
  code: string;
  message: string;
  requestId: string;
  details?: ErrorDetail[];
}
