/** The public face of `openapi/`: what other modules may import (anything else is internal). */
export { setupOpenApi } from './openapi.setup.js';
