import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { VERSION } from '../common/index.js';

const OPENAPI_UI_PATH = 'api/docs';
const OPENAPI_JSON_PATH = 'api/docs-json';

/** The OpenAPI document of every route the application serves. */
function buildOpenApiDocument(app: INestApplication, publicUrl: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ScanGate')
    .setDescription(
      'QR-code login backend: QR sessions, accounts and tokens, third-party QR login, admin API. ' +
        'Every error is `{ code, message, requestId }` (PROTOCOL.md § Errors).',
    )
    .setVersion(VERSION)
    .addServer(publicUrl)
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves the UI at `/api/docs` and the JSON at `/api/docs-json`. The document
 * is built at its first request (then kept), not at start-up: scanning every
 * route costs a start about 150 ms that nobody waits for otherwise.
 */
export function setupOpenApi(app: INestApplication, publicUrl: string): void {
  SwaggerModule.setup(OPENAPI_UI_PATH, app, () => buildOpenApiDocument(app, publicUrl), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    yamlDocumentUrl: 'api/docs-yaml',
    customSiteTitle: 'ScanGate API',
  });
}
