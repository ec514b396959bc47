import { expect } from '@jest/globals';
import request from 'supertest';
import type { Role } from '../../src/users/user.entity.js';
import { bearer, createUser, loginWeb } from './accounts.js';
import type { TestApp } from './create-test-app.js';

/** A signed-in web session (fresh sign-in: destructive admin actions allowed) of a new user with `roles`. */
export async function signedInAs(t: TestApp, roles: Role[]) {
  const { user, login } = await createUser(t, { roles });
  const session = await loginWeb(t, login);
  return {
    user,
    login,
    accessToken: session.accessToken,
    sessionId: session.sessionId,
    auth: bearer(session.accessToken),
  };
}

/** An admin, an auditor and a plain user, each signed in. */
export async function adminCast(t: TestApp) {
  const [admin, auditor, user] = await Promise.all([
    signedInAs(t, ['admin']),
    signedInAs(t, ['auditor']),
    signedInAs(t, ['user']),
  ]);
  return { admin, auditor, user };
}

/**
 * Each `[path, method, query fields]` is in the OpenAPI document with one
 * success answer (an example, or a description for 204) and exactly these
 * query parameters.
 */
export async function expectDocumented(t: TestApp, routes: Array<[string, string, string[]]>): Promise<void> {
  const document = (await request(t.url).get('/api/docs-json').expect(200)).body as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ name: string; in: string }>;
          responses: Record<
            string,
            { content?: Record<string, { schema?: { example?: unknown } }>; description?: string }
          >;
        }
      >
    >;
  };
  for (const [path, method, query] of routes) {
    const operation = document.paths[path]?.[method];
    expect({ path, method, documented: operation !== undefined }).toEqual({ path, method, documented: true });
    const success = Object.entries(operation!.responses).filter(([status]) => status.startsWith('2'));
    expect(success).toHaveLength(1);
    const [status, response] = success[0]!;
    if (status === '204') expect(response.description).toEqual(expect.any(String));
    else expect(response.content?.['application/json']?.schema?.example).toBeDefined();
    const named = (operation!.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map((p) => p.name)
      .sort();
    expect({ path, method, query: named }).toEqual({ path, method, query: [...query].sort() });
  }
}
