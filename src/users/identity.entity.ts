import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  type Relation,
} from 'typeorm';
import { User } from './user.entity.js';

/**
 * How a user signs in with a third party: keyed by `(provider, subject)` only,
 * never merged on e-mail, phone or name.
 */
@Entity('identities')
@Index('UQ_identities_provider_subject', ['provider', 'subject'], { unique: true })
@Index('IDX_identities_subject_trgm', { synchronize: false })
export class Identity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('IDX_identities_user_id')
  @Column({ type: 'uuid', name: 'user_id' })
  userId!: string;

  @ManyToOne(() => User, (user) => user.identities, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;

  /** `wechat`, `alipay`, `dingtalk`, … */
  @Column({ type: 'text' })
  provider!: string;

  /** The provider's stable id for the person (WeChat unionid, else openid; …). */
  @Column({ type: 'text' })
  subject!: string;

  /** Which id `subject` is: `unionid`, `openid`, `open_id`, `user_id`, `unionId`, … */
  @Column({ type: 'text', name: 'subject_kind' })
  subjectKind!: string;

  /** The profile the provider gave at the last sign-in (display name, avatar, …). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  profile!: Record<string, unknown>;

  @CreateDateColumn({ type: 'timestamptz', name: 'linked_at' })
  linkedAt!: Date;
}
