import { verify, type KeyObject } from 'node:crypto';

/** base64url of a 64-byte signature. */
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/**
 * Whether `signature` (the `X-Device-Signature` header: base64url of an ES256
 * signature in IEEE P1363 form, as WebCrypto makes it) is the device key's
 * signature of the UTF-8 `message` (`scangate:<action>:…`, PROTOCOL.md).
 */
export function isDeviceSignature(key: KeyObject, message: string, signature: string | undefined): boolean {
  if (!signature || !SIGNATURE.test(signature)) return false;
  const bytes = Buffer.from(signature, 'base64url');
  return (
    bytes.length === 64 && verify('sha256', Buffer.from(message, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, bytes)
  );
}
