import { Module } from '@nestjs/common';
import { UsersModule } from '../users/index.js';
import { DemoUser } from './demo-user.service.js';

/** What the server does once at start-up, and only the server (not the CLIs). */
@Module({ imports: [UsersModule], providers: [DemoUser], exports: [DemoUser] })
export class BootstrapModule {}
