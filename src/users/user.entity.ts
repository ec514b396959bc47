import {
  Check,
  Column,
  CreateDateColumn,
  Entity,
  Index,
  OneToMany,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
  type Relation,
} from 'typeorm';
import { Identity } from './identity.entity.js';

export const ROLES = ['user', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];
export type UserStatus = 'active' | 'disabled';

@Entity('users')
@Check('CHK_users_status', `"status" IN ('active', 'disabled')`)
@Index('IDX_users_created_at_id', ['createdAt', 'id'])
// Trigram indexes for the admin search (expression indexes: made by the migration, not synchronised).
@Index('IDX_users_login_trgm', { synchronize: false })
@Index('IDX_users_display_name_trgm', { synchronize: false })
@Check('CHK_users_roles', `"roles" <@ ARRAY['user', 'admin', 'auditor']::text[]`)
export class User {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Normalised (NFKC, lower case), so uniqueness is case-insensitive. */
  @Column({ type: 'text', unique: true })
  login!: string;

  @Column({ type: 'text', name: 'display_name' })
  displayName!: string;

  @Column({ type: 'text', name: 'avatar_url', nullable: true })
  avatarUrl!: string | null;

  /** argon2id PHC string; null when the user signs in only through a provider. */
  @Column({ type: 'text', name: 'password_hash', nullable: true, select: false })
  passwordHash!: string | null;

  @Column({ type: 'text', default: 'active' })
  status!: UserStatus;

  @Column({ type: 'text', array: true, default: () => "'{user}'" })
  roles!: Role[];

  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz', name: 'updated_at' })
  updatedAt!: Date;

  /** When the password was last set (null: the user has never had one). */
  @Column({ type: 'timestamptz', name: 'password_changed_at', nullable: true })
  passwordChangedAt!: Date | null;

  /** Set by an admin's soft delete: the user is gone from every list and cannot sign in. */
  @Column({ type: 'timestamptz', name: 'deleted_at', nullable: true })
  deletedAt!: Date | null;

  @OneToMany(() => Identity, (identity) => identity.user)
  identities?: Relation<Identity>[];
}
