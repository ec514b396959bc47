import { afterAll, beforeAll, beforeEach } from '@jest/globals';
import type { Provider, Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AuthError } from '../../src/auth/auth.errors.js';
import type { Principal } from '../../src/auth/auth.principal.js';
import { JwtAuthGuard } from '../../src/auth/guards/jwt-auth.guard.js';
import { AccessTokenService } from '../../src/auth/tokens/access-token.service.js';
import { JwtStrategy } from '../../src/auth/tokens/jwt.strategy.js';
import { AllExceptionsFilter } from '../../src/common/errors/all-exceptions.filter.js';
import { jsonOnlyMiddleware } from '../../src/common/http/http.middleware.js';
import { createValidationPipe } from '../../src/common/http/validation.pipe.js';
import { APP_CONFIG } from '../../src/config/config.types.js';
import { requestIdMiddleware } from '../../src/logging/request-id.js';
import { RateLimiter } from '../../src/rate-limit/rate-limiter.js';
import { MemoryStore } from '../../src/store/memory.store.js';
import { STORE } from '../../src/store/store.js';
import { FakeClock } from './fake-clock.js';
import { testConfig } from './test-config.js';

export interface ControllerSlice {
  url: string;
  close(): Promise<void>;
}

/**
 * One controller over HTTP with the app's real request path around it: the
 * request id and JSON-only middleware, the JSON body parser, the global
 * validation pipe, the access-token guard (roles included) and the exception
 * filter that writes the envelope; rate limits on the in-process store. Its
 * services are the fakes in `providers`, so a slice proves what the route
 * itself decides: which input it refuses and with which code, who may call it,
 * and how a domain error thrown below it reaches the client.
 *
 * Bearer tokens are names of `principals` (the token verifier's own behaviour
 * is the tokens e2e suite's): an unknown one is 401 auth.unauthenticated.
 */
export async function controllerSlice(
  controller: Type,
  providers: Provider[],
  principals: Record<string, Principal> = {},
): Promise<ControllerSlice> {
  const config = testConfig({ RATE_LIMITS: 'on' });
  const tokens = {
    verify: async (token: string | undefined) => {
      const principal = token === undefined ? undefined : principals[token];
      if (!principal) throw new AuthError('auth.unauthenticated');
      return { principal };
    },
  };
  const moduleRef = await Test.createTestingModule({
    controllers: [controller],
    providers: [
      ...providers,
      { provide: APP_CONFIG, useValue: config.app },
      { provide: STORE, useValue: new MemoryStore(new FakeClock()) },
      RateLimiter,
      { provide: AccessTokenService, useValue: tokens },
      JwtStrategy,
      { provide: APP_GUARD, useClass: JwtAuthGuard },
      { provide: APP_PIPE, useFactory: createValidationPipe },
      { provide: APP_FILTER, useClass: AllExceptionsFilter },
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: ['error'] });
  app.use(requestIdMiddleware);
  app.use(jsonOnlyMiddleware);
  app.useBodyParser('json', { limit: config.app.bodyLimit });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/**
 * A service fake that records every call (method and arguments) and answers
 * with `answer(method)`, or throws the error given to `failWith`.
 */
export class RecordingFake {
  readonly calls: Array<{ method: string; args: unknown[] }> = [];
  readonly service: Record<string, (...args: unknown[]) => Promise<unknown>>;
  private failure?: Error;

  constructor(methods: string[], answer: (method: string) => unknown) {
    this.service = Object.fromEntries(
      methods.map((method) => [
        method,
        async (...args: unknown[]) => {
          this.calls.push({ method, args });
          if (this.failure) throw this.failure;
          return answer(method);
        },
      ]),
    );
  }

  failWith(error: Error): void {
    this.failure = error;
  }

  reset(): void {
    this.calls.length = 0;
    this.failure = undefined;
  }
}

/**
 * `controllerSlice` for a describe block: made before its first test, closed
 * after its last, with `fake` reset before each test. Read `url` inside tests.
 */
export function sliceSuite(
  controller: Type,
  providers: Provider[],
  principals: Record<string, Principal>,
  fake: RecordingFake,
): { readonly url: string } {
  let slice: ControllerSlice | undefined;
  beforeAll(async () => {
    slice = await controllerSlice(controller, providers, principals);
  });
  afterAll(async () => {
    await slice?.close();
  });
  beforeEach(() => fake.reset());
  return {
    get url() {
      if (!slice) throw new Error('the slice is made in beforeAll: read url inside a test');
      return slice.url;
    },
  };
}
