import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { AuditModule, AuditService } from '../audit/index.js';

import { ClockModule, AppError, CryptoModule, runCli } from '../common/index.js';

import { loadConfig, ConfigModule, type Config } from '../config/index.js';

import { DatabaseModule } from '../database/index.js';
import { UsersModule, UsersService } from '../users/index.js';

/**
 * `npm run admin:create -- --login <login> --password <password> [--display-name <name>]`:
 * creates an administrator in the configured database (DATABASE_URL, or the
 * embedded one under DATA_DIR, which must not be in use by a running server).
 */
@Module({})
class AdminCliModule {
  static forRoot(config: Config) {
    return {
      module: AdminCliModule,
      imports: [ConfigModule.forRoot(config), ClockModule, CryptoModule, DatabaseModule, UsersModule, AuditModule],
    };
  }
}

async function main(): Promise<number> {
  let values: { login?: string; password?: string; 'display-name'?: string };
  try {
    ({ values } = parseArgs({
      options: { login: { type: 'string' }, password: { type: 'string' }, 'display-name': { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    console.error(`admin:create: ${(error as Error).message}`);
    return 2;
  }
  if (!values.login || !values.password) {
    console.error('usage: npm run admin:create -- --login <login> --password <password> [--display-name <name>]');
    return 2;
  }
  const app = await NestFactory.createApplicationContext(AdminCliModule.forRoot(loadConfig()), {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  try {
    const user = await app.get(UsersService).create({
      login: values.login,
      password: values.password,
      displayName: values['display-name'] ?? values.login,
      roles: ['user', 'admin'],
    });
    await app
      .get(AuditService)
      .record({ type: 'user.created', userId: user.id, detail: { login: user.login, roles: user.roles, via: 'cli' } });
    console.log(`Created administrator "${user.login}" (${user.id}).`);
    return 0;
  } catch (error) {
    if (error instanceof AppError) {
      const details = error.details?.map((d) => `${d.path} ${d.message}`).join('; ');
      console.error(details ? `admin:create: ${details}` : `admin:create: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await app.close();
  }
}

runCli('admin:create', main);
