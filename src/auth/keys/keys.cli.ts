import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClockModule, LocalSecrets, runCli } from '../../common/index.js';
import { loadConfig, ConfigModule, type Config } from '../../config/index.js';

import { DatabaseModule } from '../../database/index.js';
import { StoreModule } from '../../store/index.js';
import { SigningKey } from './signing-key.entity.js';
import { SigningKeysRepository } from './signing-keys.repository.js';
import { signingKeysSecretProvider } from './signing-keys.secret.js';

import { SigningKeysService } from './signing-keys.service.js';

/**
 * `npm run keys:rotate`: a new signing key signs from now on, on every
 * instance (announced through the store; instances also poll every minute).
 * Old public keys stay in the JWKS until their last token has expired.
 */
@Module({})
class KeysCliModule {
  static forRoot(config: Config) {
    return {
      module: KeysCliModule,
      imports: [
        ConfigModule.forRoot(config),
        ClockModule,
        DatabaseModule,
        StoreModule,
        TypeOrmModule.forFeature([SigningKey]),
      ],
      providers: [SigningKeysRepository, SigningKeysService, signingKeysSecretProvider, LocalSecrets],
    };
  }
}

async function main(): Promise<number> {
  if (process.argv[2] !== 'rotate') {
    console.error('usage: npm run keys:rotate');
    return 2;
  }
  const app = await NestFactory.createApplicationContext(KeysCliModule.forRoot(loadConfig()), {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  try {
    const kid = await app.get(SigningKeysService).rotate();
    console.log(`New signing key ${kid}; the previous one stays in the JWKS until its tokens expire.`);
    return 0;
  } finally {
    await app.close();
  }
}

runCli('keys:rotate', main);
