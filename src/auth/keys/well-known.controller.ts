import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AUTH_CONFIG, type AuthConfig } from '../../config/index.js';
import { Public } from '../auth.decorators.js';
import { SigningKeysService } from './signing-keys.service.js';

/** What a gateway needs to verify access tokens without calling us. */
@ApiTags('auth')
@Public()
@Controller('.well-known')
export class WellKnownController {
  constructor(
    private readonly keys: SigningKeysService,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=60')
  @ApiOperation({ summary: 'Public keys that verify access tokens (JWKS)' })
  @ApiOkResponse({
    schema: { example: { keys: [{ kty: 'EC', crv: 'P-256', x: '…', y: '…', kid: '…', alg: 'ES256', use: 'sig' }] } },
  })
  async jwks() {
    return { keys: (await this.keys.publicKeys()).map((k) => k.jwk) };
  }

  @Get('openid-configuration')
  @Header('Cache-Control', 'public, max-age=300')
  @ApiOperation({ summary: 'Discovery document: issuer, JWKS location, algorithms' })
  @ApiOkResponse({
    schema: {
      example: { issuer: 'https://login.example.com', jwks_uri: 'https://login.example.com/.well-known/jwks.json' },
    },
  })
  configuration() {
    return {
      issuer: this.config.issuer,
      jwks_uri: `${this.config.issuer}/.well-known/jwks.json`,
      id_token_signing_alg_values_supported: ['ES256'],
      subject_types_supported: ['public'],
      response_types_supported: ['code'],
      claims_supported: ['iss', 'aud', 'sub', 'sid', 'did', 'amr', 'iat', 'exp'],
    };
  }
}
