import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { bearer, createUser, loginMobile } from '../support/accounts.js';
import { createTestApp } from '../support/create-test-app.js';
import { freshDatabase } from '../support/fresh-database.js';
import { describeWith, REAL_SERVICES_NEED } from '../support/services.js';
import { TEST_DATABASE_URL, testConfig } from '../support/test-config.js';

/**
 * Signing keys at rest (security review, finding 6): the private halves are
 * always sealed, with SIGNING_KEYS_SECRET or, in development without it, a
 * secret made in the data folder (owner only); keys an older version stored
 * in the clear are sealed at the next start.
 */
describe('signing keys at rest, zero configuration on disk', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'scangate-keys-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('seals the keys with a generated secret kept owner-only in the data folder, beside the database password', async () => {
    const dataDir = join(dir, 'data');
    const t = await createTestApp({ config: testConfig({ DATA_DIR: dataDir, DEMO_USER: 'off' }) });
    try {
      const rows = (await t.app.get(DataSource).query(`SELECT private_key FROM signing_keys`)) as Array<{
        private_key: string;
      }>;
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.private_key).toMatch(/^v1\./);
        expect(row.private_key).not.toContain('PRIVATE KEY');
      }
      for (const file of ['signing-keys.secret', 'postgres.password'])
        expect((await stat(join(dataDir, file))).mode & 0o777).toBe(0o600);
      expect((await stat(dataDir)).mode & 0o077).toBe(0);
      // The keys still sign and verify.
      const { login } = await createUser(t);
      const phone = await loginMobile(t, login);
      await request(t.url).get('/api/v1/me').set(bearer(phone.accessToken)).expect(200);
    } finally {
      await t.close();
    }
    // A new data folder: PGlite's initdb and the migrations take a while on a busy machine.
  }, 180_000);
});

describeWith(REAL_SERVICES_NEED, 'signing keys at rest, a key stored in the clear by an older version', () => {
  it('is sealed at the next start, and still verifies its tokens', async () => {
    const db = await freshDatabase(TEST_DATABASE_URL!);
    const dataDir = await mkdtemp(join(tmpdir(), 'scangate-keys-legacy-'));
    const config = testConfig({ DATABASE_URL: db.url, DATA_DIR: dataDir, DEMO_USER: 'off' });
    try {
      // What an older version left: the active key's private half as plain PEM.
      const first = await createTestApp({ config });
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = publicKey.export({ format: 'jwk' }) as JWK;
      const kid = await calculateJwkThumbprint(jwk);
      const ds = first.app.get(DataSource);
      await ds.query(`UPDATE signing_keys SET retired_at = now() - interval '1 day' WHERE retired_at IS NULL`);
      await ds.query(
        `INSERT INTO signing_keys (kid, algorithm, public_jwk, private_key, created_at) VALUES ($1, 'ES256', $2, $3, now())`,
        [
          kid,
          JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' }),
          privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        ],
      );
      await first.close();

      const second = await createTestApp({ config });
      try {
        const rows = (await second.app.get(DataSource).query(`SELECT kid, private_key FROM signing_keys`)) as Array<{
          kid: string;
          private_key: string;
        }>;
        expect(rows.map((r) => r.private_key.startsWith('v1.'))).toEqual(rows.map(() => true));
        const { login } = await createUser(second);
        const phone = await loginMobile(second, login);
        expect(JSON.parse(Buffer.from(phone.accessToken.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
        await request(second.url).get('/api/v1/me').set(bearer(phone.accessToken)).expect(200);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
      await db.drop();
    }
  }, 120_000);
});
