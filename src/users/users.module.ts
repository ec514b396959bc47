import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Identity } from './identity.entity.js';
import { PasswordHasher } from './password.hasher.js';
import { User } from './user.entity.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';
import { UserDirectory } from './user.directory.js';

/** Users and their third-party identities (Postgres). */
@Module({
  imports: [TypeOrmModule.forFeature([User, Identity])],
  providers: [UsersRepository, UsersService, PasswordHasher, UserDirectory],
  exports: [UsersService, UserDirectory],
})
export class UsersModule {}
