import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { User } from '../../users/index.js';

export type SessionKind = 'mobile' | 'web';

/** EC P-256 public JWK registered by a phone at sign-in (device-bound approval). */
export interface DevicePublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
}

/**
 * A device session: a signed-in phone (`mobile`, one per device id per user)
 * or a browser login (`web`). Its id is the access token's `sid`; its refresh
 * tokens form one family (`refresh_tokens`). A revoked session never comes back.
 */
@Entity('sessions')
@Check('CHK_sessions_kind', `"kind" IN ('mobile', 'web')`)
@Check('CHK_sessions_device', `"kind" = 'web' OR "device_id" IS NOT NULL`)
@Index('UQ_sessions_active_device', ['userId', 'deviceId'], {
  unique: true,
  where: '"revoked_at" IS NULL AND "device_id" IS NOT NULL',
})
@Index('IDX_sessions_user_id', ['userId'])
@Index('IDX_sessions_created_at_id', ['createdAt', 'id'])
export class Session {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid', name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  @Column({ type: 'text' })
  kind!: SessionKind;

  /** `password`, `qr`, `oauth:<provider>`. */
  @Column({ type: 'text', name: 'created_via' })
  createdVia!: string;

  @Column({ type: 'text', name: 'device_id', nullable: true })
  deviceId!: string | null;

  @Column({ type: 'text', name: 'device_name', nullable: true })
  deviceName!: string | null;

  @Column({ type: 'text', name: 'device_platform', nullable: true })
  devicePlatform!: string | null;

  @Column({ type: 'jsonb', name: 'device_public_key', nullable: true })
  devicePublicKey!: DevicePublicJwk | null;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  /** Last refresh (access tokens are checked without touching the database). */
  @Column({ type: 'timestamptz', name: 'last_seen_at' })
  lastSeenAt!: Date;

  /**
   * Last time this session proved a credential of the account itself: a
   * password (sign-in or reauth), or re-proof through an identity already
   * linked (an account without a password). Null for a session made by QR or a
   * provider alone: never fresh for adding a way in or for destructive actions.
   */
  @Column({ type: 'timestamptz', name: 'authenticated_at', nullable: true })
  authenticatedAt!: Date | null;

  /** Sliding end: renewed at each refresh, never past `absoluteExpiresAt`. */
  @Column({ type: 'timestamptz', name: 'refresh_expires_at' })
  refreshExpiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'absolute_expires_at' })
  absoluteExpiresAt!: Date;

  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  /** `logout`, `replaced`, `refresh_reused`, `password_changed`, `user_disabled`, `revoked_by_user`, `revoked_by_admin`. */
  @Column({ type: 'text', name: 'revoke_reason', nullable: true })
  revokeReason!: string | null;
}
