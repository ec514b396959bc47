import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, IsNull, MoreThan } from 'typeorm';
import { SigningKey } from './signing-key.entity.js';

/** Serialises key creation and rotation across instances ("SGKEYS"). */
const KEYS_LOCK = '91827364501';

@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The newest unretired key, with its (sealed) private half. */
  findActive(): Promise<SigningKey | null> {
    return this.dataSource
      .getRepository(SigningKey)
      .createQueryBuilder('k')
      .addSelect('k.privateKey')
      .where('k.retiredAt IS NULL')
      .orderBy('k.createdAt', 'DESC')
      .getOne();
  }

  /** Keys whose tokens may still be valid: unretired, or retired after `since`. */
  findVerifiable(since: Date): Promise<SigningKey[]> {
    return this.dataSource.getRepository(SigningKey).find({
      where: [{ retiredAt: IsNull() }, { retiredAt: MoreThan(since) }],
      order: { createdAt: 'DESC' },
    });
  }

  /**
   * Seals every private key stored in the clear (`isSealed` false), under the
   * keys' lock: each row is rewritten only if it still holds what was read.
   */
  async sealClear(seal: (pem: string) => string, isSealed: (stored: string) => boolean): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
      const rows = (await em.query('SELECT kid, private_key FROM signing_keys')) as Array<{
        kid: string;
        private_key: string;
      }>;
      const clear = rows.filter((row) => !isSealed(row.private_key));
      for (const row of clear) {
        await em.query('UPDATE signing_keys SET private_key = $2 WHERE kid = $1 AND private_key = $3', [
          row.kid,
          seal(row.private_key),
          row.private_key,
        ]);
      }
      return clear.length;
    });
  }

  /**
   * Under a transaction-scoped advisory lock (instances starting together, or a
   * rotation racing a start): `decide` sees the active key and may return a new
   * one to insert, retiring the others at `now`.
   */
  async withLock(
    decide: (active: SigningKey | null) => Promise<SigningKey | null>,
    now: Date,
  ): Promise<SigningKey | null> {
    return this.dataSource.transaction(async (em) => {
      await em.query('SELECT pg_advisory_xact_lock($1)', [KEYS_LOCK]);
      const repo = em.getRepository(SigningKey);
      const active = await repo
        .createQueryBuilder('k')
        .addSelect('k.privateKey')
        .where('k.retiredAt IS NULL')
        .orderBy('k.createdAt', 'DESC')
        .getOne();
      const next = await decide(active);
      if (!next) return null;
      await repo.update({ retiredAt: IsNull() }, { retiredAt: now });
      await repo.insert(next);
      return next;
    });
  }
}
