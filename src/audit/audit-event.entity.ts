import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One thing that happened, for operators and investigations. Never holds a secret. */
@Entity('audit_events')
@Index('IDX_audit_events_at', ['at'])
@Index('IDX_audit_events_user_id_at', ['userId', 'at'])
@Index('IDX_audit_events_at_id', ['at', 'id'])
@Index('IDX_audit_events_actor_id_at', ['actorId', 'at'])
@Index('IDX_audit_events_type_at', ['type', 'at'])
@Index('IDX_audit_events_ip_at', ['ip', 'at'])
// The QR id the qr.* events carry (an expression index: made by the migration, not synchronised).
@Index('IDX_audit_events_qr', { synchronize: false })
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** e.g. `auth.login_succeeded`, `auth.login_failed`, `session.revoked`. */
  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'timestamptz' })
  at!: Date;

  /** Who acted (an administrator, or the user themself). */
  @Column({ type: 'uuid', name: 'actor_id', nullable: true })
  actorId!: string | null;

  /** Who was acted upon. */
  @Column({ type: 'uuid', name: 'user_id', nullable: true })
  userId!: string | null;

  @Column({ type: 'uuid', name: 'session_id', nullable: true })
  sessionId!: string | null;

  @Column({ type: 'text', nullable: true })
  ip!: string | null;

  @Column({ type: 'text', name: 'user_agent', nullable: true })
  userAgent!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  detail!: Record<string, unknown>;
}
