import { Injectable } from '@nestjs/common';
import { CryptoService, NotFoundError, ValidationError } from '../common/index.js';

import { UsersError } from './users.errors.js';
import { LOGIN_PATTERN, normalizeLogin } from './login.js';
import { PasswordHasher } from './password.hasher.js';
import { passwordProblems } from './password.policy.js';
import type { Identity } from './identity.entity.js';
import type { Role, User, UserStatus } from './user.entity.js';
import { isUniqueViolation } from '../database/index.js';
import { UsersRepository } from './users.repository.js';

/** A provider identity as stored (no token ever). */
export interface NewIdentity {
  provider: string;
  subject: string;
  subjectKind: string;
  profile: Record<string, unknown>;
}

/** An avatar to keep: an http(s) URL of reasonable length, else none. */
function httpsUrl(url: string | null): string | null {
  if (!url || url.length > 1_000) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.toString() : null;
  } catch {
    return null;
  }
}

export interface CreateUserInput {
  login: string;
  password?: string;
  displayName: string;
  roles?: Role[];
}

/** Users and their identities: creation, lookup, passwords, status. */
@Injectable()
export class UsersService {
  constructor(
    private readonly repository: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly crypto: CryptoService,
  ) {}

  /** The user a provider identity belongs to, or null. */
  findByIdentity(provider: string, subject: string): Promise<User | null> {
    return this.repository.findByIdentity(provider, subject);
  }

  /**
   * A new user for a first sign-in with a provider: display name and avatar
   * from its profile, a generated login (`<provider>.<random>`), no password.
   * Never merged with an existing user on a nickname, phone or e-mail. Null
   * when a parallel first sign-in took the identity meanwhile (look it up again).
   */
  async createForIdentity(
    identity: NewIdentity,
    shown: { displayName: string | null; avatarUrl: string | null },
  ): Promise<User | null> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const login = `${identity.provider}.${this.crypto
        .randomToken(6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '0')}`;
      try {
        return await this.repository.insertWithIdentity(
          {
            login,
            displayName: shown.displayName?.trim().slice(0, 100) || login,
            avatarUrl: httpsUrl(shown.avatarUrl),
          },
          identity,
        );
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        // The identity was taken by a parallel sign-in, or (rarely) the login: which one?
        if (await this.repository.findByIdentity(identity.provider, identity.subject)) return null;
      }
    }
    throw new Error('Could not choose a free login for a new user');
  }

  /**
   * Links a provider identity to a user (or refreshes its stored profile when
   * it is theirs already: `created` false); refused when another user holds it.
   */
  async linkIdentity(userId: string, identity: NewIdentity): Promise<{ identity: Identity; created: boolean }> {
    const outcome = await this.repository.linkIdentity(userId, identity);
    if (outcome === 'conflict') throw new UsersError('oauth.identity_conflict');
    return outcome;
  }

  /** The identities linked to the user since its password was last set (all of them if it never had one). */
  async identitiesLinkedSincePassword(user: Pick<User, 'id' | 'passwordChangedAt' | 'createdAt'>): Promise<Identity[]> {
    return this.repository.listIdentitiesLinkedAfter(user.id, user.passwordChangedAt ?? new Date(0));
  }

  /** Creates a user; without a password it can sign in only through a provider. */
  async create(input: CreateUserInput): Promise<User> {
    const login = normalizeLogin(input.login);
    const problems = LOGIN_PATTERN.test(login)
      ? []
      : [{ path: 'login', message: 'must be 3 to 64 letters, digits or . _ @ + -' }];
    if (input.password !== undefined) problems.push(...passwordProblems(input.password, login));
    if (problems.length > 0) throw new ValidationError(problems);
    const passwordHash = input.password === undefined ? null : await this.hasher.hash(input.password);
    try {
      return await this.repository.insert({
        login,
        displayName: input.displayName.trim() || login,
        passwordHash,
        roles: [...new Set<Role>(input.roles?.length ? input.roles : ['user'])],
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new UsersError('conflict');
      throw error;
    }
  }

  async get(id: string): Promise<User> {
    const user = await this.repository.findById(id);
    if (!user) throw new NotFoundError('No such user.');
    return user;
  }

  find(id: string): Promise<User | null> {
    return this.repository.findById(id);
  }

  /**
   * The user whose password this is, or null: an unknown login and a wrong
   * password take the same time and give the same answer.
   */
  async verifyCredentials(login: string, password: string): Promise<User | null> {
    const user = await this.repository.findByLoginWithPassword(normalizeLogin(login));
    const ok = await this.hasher.verifyOrDummy(user?.passwordHash, password);
    return ok && user ? user : null;
  }

  /** The id of the user signing in as `login`, or null (no password is checked). */
  idOfLogin(login: string): Promise<string | null> {
    return this.repository.idOfLogin(normalizeLogin(login));
  }

  /** Whether the user has a password at all. */
  async hasPassword(userId: string): Promise<boolean> {
    return Boolean((await this.repository.findByIdWithPassword(userId))?.passwordHash);
  }

  /** Whether `password` is the user's current password (constant cost). */
  async checkPassword(userId: string, password: string): Promise<boolean> {
    const user = await this.repository.findByIdWithPassword(userId);
    return this.hasher.verifyOrDummy(user?.passwordHash, password);
  }

  /** The hash of a new password for `user`, after checking the policy (`path` names the field in errors); nothing is written. */
  async hashNewPassword(user: Pick<User, 'login'>, password: string, path = 'password'): Promise<string> {
    const problems = passwordProblems(password, user.login, path);
    if (problems.length > 0) throw new ValidationError(problems);
    return this.hasher.hash(password);
  }

  /** Sets a new password after checking the policy (`path` names the field in errors). */
  async setPassword(user: Pick<User, 'id' | 'login'>, password: string, path = 'password'): Promise<void> {
    await this.repository.setPasswordHash(user.id, await this.hashNewPassword(user, password, path));
  }

  async setStatus(id: string, status: UserStatus): Promise<void> {
    await this.repository.setStatus(id, status);
  }

  listIdentities(userId: string): Promise<Identity[]> {
    return this.repository.listIdentities(userId);
  }

  /** Unlinks an identity, refused when it is the last way to sign in. */
  async unlinkIdentity(userId: string, identityId: string): Promise<void> {
    const outcome = await this.repository.deleteIdentityUnlessLast(userId, identityId);
    if (outcome === 'missing') throw new NotFoundError('No such identity.');
    if (outcome === 'last') throw new UsersError('identity.last_method');
  }
}
