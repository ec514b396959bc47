import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CryptoService } from '../common/index.js';
import { APP_CONFIG, AUTH_CONFIG, type AppConfig, type AuthConfig } from '../config/index.js';
import { UsersError, UsersService } from '../users/index.js';

const DEMO_LOGIN = 'demo';

/**
 * Zero-configuration development: a demo user (roles user and admin) made once,
 * its password kept in `DATA_DIR/demo-user.json` (mode 600) so the banner can
 * show it at every start. Never with a real database or in production.
 */
@Injectable()
export class DemoUser implements OnApplicationBootstrap {
  private readonly logger = new Logger('DemoUser');
  credentials?: { login: string; password: string };

  constructor(
    private readonly users: UsersService,
    private readonly crypto: CryptoService,
    @Inject(APP_CONFIG) private readonly app: AppConfig,
    @Inject(AUTH_CONFIG) private readonly auth: AuthConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.auth.demoUser) return;
    const file = join(this.app.dataDir, 'demo-user.json');
    const saved = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as { login: string; password: string },
      () => undefined,
    );
    if (saved && (await this.users.verifyCredentials(saved.login, saved.password))) {
      this.credentials = saved;
      return;
    }
    const password = this.crypto.randomToken(12);
    try {
      await this.users.create({ login: DEMO_LOGIN, password, displayName: 'Demo User', roles: ['user', 'admin'] });
    } catch (error) {
      if (!(error instanceof UsersError && error.code === 'conflict')) throw error;
      this.logger.warn(`A "${DEMO_LOGIN}" user exists but its password is not in ${file}; no demo credentials to show`);
      return;
    }
    this.credentials = { login: DEMO_LOGIN, password };
    if (this.app.dataDir !== 'memory://')
      await writeFile(file, JSON.stringify(this.credentials), { mode: 0o600 }).catch(() => undefined);
  }
}
