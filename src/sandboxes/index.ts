/** The public face of `sandboxes/`: what other modules may import (anything else is internal). */
export { SANDBOX_PROVIDERS, type SandboxProviders, SandboxesModule } from './sandboxes.module.js';
