import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { loginMobile, loginWeb } from '../support/accounts.js';
import { signedInAs } from '../support/admin.js';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { testConfig } from '../support/test-config.js';

/**
 * The admin audit trail as a whole: each admin action leaves exactly one
 * event naming the acting admin, the target, the request id and the client's
 * address, with the before/after of what changed — and no secret (password,
 * token, refresh token) anywhere in any audit row.
 */
describe('admin audit trail: one event per action, no secret in any of them', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'warn', RATE_LIMITS: 'off' }) });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('records create, patch (each field), disable, revoke one, revoke all, unlink, provider check and delete', async () => {
    const admin = await signedInAs(t, ['admin']);
    const db = t.app.get(DataSource);
    const secrets: string[] = [admin.accessToken];
    const act = async (name: string, send: () => request.Test, status: number) => {
      const requestId = `audit-trail-${name}`;
      await send().set(admin.auth).set('X-Request-Id', requestId).expect(status);
      return requestId;
    };

    const firstPassword = 'a first long passphrase';
    secrets.push(firstPassword);
    let created = '';
    const acts: Array<{ requestId: string; type: string; target: () => string; detail?: Record<string, unknown> }> = [];
    acts.push({
      requestId: await act(
        'create',
        () =>
          request(t.url)
            .post('/api/v1/admin/users')
            .send({ login: `trail${Date.now()}`, password: firstPassword, displayName: 'Trail' }),
        201,
      ),
      type: 'user.created',
      target: () => created,
    });
    [{ id: created }] = await db.query(`SELECT id FROM users WHERE display_name = 'Trail'`);
    const login = (await db.query('SELECT login FROM users WHERE id = $1', [created]))[0].login as string;
    const phone = await loginMobile(t, login, firstPassword);
    const web = await loginWeb(t, login, firstPassword);
    secrets.push(phone.accessToken, phone.refreshToken, web.accessToken, web.cookie.split('=')[1]!);

    acts.push({
      requestId: await act(
        'rename',
        () => request(t.url).patch(`/api/v1/admin/users/${created}`).send({ displayName: 'Trail Renamed' }),
        200,
      ),
      type: 'user.updated',
      target: () => created,
      detail: { changes: { displayName: { before: 'Trail', after: 'Trail Renamed' } } },
    });
    const newPassword = 'a second long passphrase';
    secrets.push(newPassword);
    acts.push({
      requestId: await act(
        'password',
        () => request(t.url).patch(`/api/v1/admin/users/${created}`).send({ password: newPassword }),
        200,
      ),
      type: 'user.updated',
      target: () => created,
      detail: { changes: { password: { before: '[secret]', after: '[changed]' } } },
    });
    // New sessions to revoke (the password change ended the others).
    const again = await loginMobile(t, login, newPassword);
    await loginWeb(t, login, newPassword);
    secrets.push(again.accessToken, again.refreshToken);
    acts.push({
      requestId: await act(
        'revoke-one',
        () => request(t.url).delete(`/api/v1/admin/users/${created}/sessions/${again.sessionId}`),
        204,
      ),
      type: 'session.revoked',
      target: () => created,
    });
    acts.push({
      requestId: await act('revoke-all', () => request(t.url).delete(`/api/v1/admin/users/${created}/sessions`), 204),
      type: 'session.revoked',
      target: () => created,
    });
    await db.query(
      `INSERT INTO identities (user_id, provider, subject, subject_kind) VALUES ($1, 'wechat', 'trail-subject', 'unionid')`,
      [created],
    );
    const [{ id: identityId }] = await db.query('SELECT id FROM identities WHERE user_id = $1', [created]);
    acts.push({
      requestId: await act(
        'unlink',
        () => request(t.url).delete(`/api/v1/admin/users/${created}/identities/${identityId}`),
        204,
      ),
      type: 'identity.unlinked',
      target: () => created,
    });
    acts.push({
      requestId: await act(
        'disable',
        () => request(t.url).patch(`/api/v1/admin/users/${created}`).send({ status: 'disabled' }),
        200,
      ),
      type: 'user.updated',
      target: () => created,
      detail: { changes: { status: { before: 'active', after: 'disabled' } } },
    });
    const enabledProvider = (
      (await request(t.url).get('/api/v1/admin/providers').set(admin.auth).expect(200)).body.items as Array<{
        id: string;
        enabled: boolean;
      }>
    ).find((p) => p.enabled);
    if (enabledProvider) {
      acts.push({
        requestId: await act(
          'check',
          () => request(t.url).post(`/api/v1/admin/providers/${enabledProvider.id}/check`),
          200,
        ),
        type: 'provider.checked',
        target: () => '',
      });
    }
    acts.push({
      requestId: await act('delete', () => request(t.url).delete(`/api/v1/admin/users/${created}`), 204),
      type: 'user.deleted',
      target: () => created,
    });

    for (const expected of acts) {
      const rows = (await db.query(
        `SELECT type, actor_id, user_id, ip, detail FROM audit_events WHERE detail->>'requestId' = $1`,
        [expected.requestId],
      )) as Array<{
        type: string;
        actor_id: string;
        user_id: string | null;
        ip: string | null;
        detail: Record<string, unknown>;
      }>;
      // One event per action (revoke-all may name each revoked session in its one event).
      expect({ action: expected.requestId, events: rows.length }).toEqual({ action: expected.requestId, events: 1 });
      expect(rows[0]).toMatchObject({
        type: expected.type,
        actor_id: admin.user.id,
        ip: expect.stringMatching(/127\.0\.0\.1/),
      });
      if (expected.target()) expect(rows[0]!.user_id).toBe(expected.target());
      if (expected.detail) expect(rows[0]!.detail).toMatchObject(expected.detail);
    }

    const everything = JSON.stringify(await db.query('SELECT * FROM audit_events'));
    for (const secret of secrets)
      expect({ secret: secret.slice(0, 12), found: everything.includes(secret) }).toEqual({
        secret: secret.slice(0, 12),
        found: false,
      });
  });
});

describe('admin API documentation', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ config: testConfig({ LOG_LEVEL: 'silent' }) });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  it('gives every /api/v1/admin operation a summary and an example answer in the OpenAPI document', async () => {
    type Operation = {
      summary?: string;
      responses?: Record<
        string,
        { content?: Record<string, { example?: unknown; examples?: unknown; schema?: { example?: unknown } }> }
      >;
    };
    const document = (await request(t.url).get('/api/docs-json').expect(200)).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(document.paths).filter(([p]) => p.startsWith('/api/v1/admin'))) {
      for (const [method, operation] of Object.entries(operations)) {
        const hasExample = Object.entries(operation.responses ?? {}).some(
          ([status, response]) =>
            status === '204' ||
            Object.values(response.content ?? {}).some(
              (media) =>
                media.example !== undefined || media.examples !== undefined || media.schema?.example !== undefined,
            ),
        );
        if (!operation.summary || !hasExample) missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
