import { Inject, Injectable } from '@nestjs/common';
import { AuthError, isDeviceSignature, SessionsService, type Principal } from '../auth/index.js';
import { QR_CONFIG, type QrConfig } from '../config/index.js';

/**
 * The phone that approves a login (SECURITY.md, device binding): a signed-in
 * mobile session whose device key, registered at sign-in, signs each step.
 * Keyless phones approve only where QR_ALLOW_KEYLESS_DEVICES allows it.
 */
@Injectable()
export class QrApprovingDevice {
  constructor(
    private readonly sessions: SessionsService,
    @Inject(QR_CONFIG) private readonly config: QrConfig,
  ) {}

  /** Refuses anything but a phone session that may approve logins here. */
  async assertMayApprove(principal: Principal): Promise<void> {
    if (principal.kind !== 'mobile' || !principal.deviceId)
      throw new AuthError('auth.forbidden', 'Only a signed-in phone (a mobile device session) can do this.');
    if (this.config.allowKeylessDevices) return;
    if (!(await this.sessions.devicePublicKey(principal.sessionId))) throw keyRequired();
  }

  /** With a registered key the signature of `message` is required and must verify. */
  async verify(principal: Principal, message: string, signature: string | undefined): Promise<void> {
    const key = await this.sessions.devicePublicKey(principal.sessionId);
    if (!key) {
      if (!this.config.allowKeylessDevices) throw keyRequired();
      return;
    }
    if (!isDeviceSignature(key, message, signature)) throw new AuthError('auth.device_signature_invalid');
  }
}

const keyRequired = () =>
  new AuthError('auth.forbidden', 'This phone must register a device key at sign-in to approve logins.');
