import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * An access-token signing key pair, shared by every instance. The newest
 * unretired key signs; retired keys stay in the JWKS until the last token they
 * signed has expired. The private half is encrypted (AES-256-GCM with
 * SIGNING_KEYS_SECRET) whenever a secret is configured, always in production.
 */
@Entity('signing_keys')
export class SigningKey {
  /** The JWT header's `kid`. */
  @PrimaryColumn({ type: 'text' })
  kid!: string;

  @Column({ type: 'text' })
  algorithm!: 'ES256';

  @Column({ type: 'jsonb', name: 'public_jwk' })
  publicJwk!: Record<string, string>;

  /** PKCS#8 PEM, or `v1.<iv>.<tag>.<ciphertext>` (base64url) when encrypted. */
  @Column({ type: 'text', name: 'private_key', select: false })
  privateKey!: string;

  @Column({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'retired_at', nullable: true })
  retiredAt!: Date | null;
}
