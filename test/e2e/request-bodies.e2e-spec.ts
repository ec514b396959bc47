import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { createTestApp, type TestApp } from '../support/create-test-app.js';
import { expectError } from '../support/http.js';
import { createUser } from '../support/accounts.js';

/**
 * What `/api/v1` reads from a request body (security review, findings 2 and 8):
 * JSON only, and text the database can store, else a 4xx with the envelope.
 */
describe('request bodies on /api/v1', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });

  afterAll(async () => {
    await t.close();
  });

  it('refuses a text/plain body with 415 unsupported_media_type instead of reading it as empty', async () => {
    const res = await request(t.url).post('/api/v1/qr-sessions').set('Content-Type', 'text/plain').send('garbage{');
    expectError(res, 415, 'unsupported_media_type');
  });

  it('refuses a form post to the sign-in route (a cross-site form cannot sign anyone in)', async () => {
    const { login } = await createUser(t);
    const res = await request(t.url)
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send(`login=${login}&password=whatever`);
    expectError(res, 415, 'unsupported_media_type');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('accepts JSON with parameters and +json types, and requests without a body', async () => {
    await request(t.url)
      .post('/api/v1/qr-sessions')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send('{}')
      .expect(201);
    const typed = await request(t.url)
      .post('/api/v1/qr-sessions')
      .set('Content-Type', 'application/merge-patch+json')
      .send('{"id":"mine"}');
    expectError(typed, 400, 'validation.failed'); // read, not ignored: the client-chosen id is refused
    await request(t.url).post('/api/v1/qr-sessions').expect(201);
  });

  it('answers a NUL byte in the login with 400 validation.failed, not 500', async () => {
    const res = await request(t.url).post('/api/v1/auth/login').send({ login: 'de\u0000mo', password: 'x' });
    expectError(res, 400, 'validation.failed');
    expect(res.body.details).toEqual([expect.objectContaining({ path: 'login' })]);
  });
});
