import request from 'supertest';
import type { Role } from '../../src/users/user.entity.js';
import { UsersService } from '../../src/users/users.service.js';
import type { TestApp } from './create-test-app.js';

export const TEST_PASSWORD = 'correct horse battery staple';

let counter = 0;

/** A new user straight through the service (no HTTP), with a unique login. */
export async function createUser(
  t: TestApp,
  options: { login?: string; password?: string | null; roles?: Role[]; displayName?: string } = {},
) {
  const login = options.login ?? `user${Date.now().toString(36)}${(counter++).toString(36)}`;
  const password = options.password === null ? undefined : (options.password ?? TEST_PASSWORD);
  const user = await t.app.get(UsersService).create({
    login,
    password,
    displayName: options.displayName ?? `Test ${login}`,
    roles: options.roles,
  });
  return { user, login, password };
}

export interface MobileLogin {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  deviceId: string;
}

/** Signs in as a mobile device session over HTTP. */
export async function loginMobile(
  t: TestApp,
  login: string,
  password = TEST_PASSWORD,
  device: { id?: string; name?: string; platform?: string; publicKey?: unknown } = {},
): Promise<MobileLogin> {
  const deviceId = device.id ?? `device-${Date.now().toString(36)}-${(counter++).toString(36)}`;
  const res = await request(t.url)
    .post('/api/v1/auth/login')
    .send({ login, password, device: { name: 'Test phone', platform: 'android', ...device, id: deviceId } })
    .expect(200);
  return {
    accessToken: res.body.accessToken,
    refreshToken: res.body.refreshToken,
    sessionId: res.body.sessionId,
    deviceId,
  };
}

/** Signs in as a web session over HTTP; returns the access token and the refresh cookie. */
export async function loginWeb(t: TestApp, login: string, password = TEST_PASSWORD) {
  const res = await request(t.url).post('/api/v1/auth/login').send({ login, password }).expect(200);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const cookie = setCookie.find((c) => c.startsWith('sg_refresh='));
  if (!cookie) throw new Error('no refresh cookie');
  return {
    accessToken: res.body.accessToken as string,
    sessionId: res.body.sessionId as string,
    cookie: cookie.split(';')[0]!,
    setCookie: cookie,
  };
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
