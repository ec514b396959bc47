/** The public face of `sandboxes/`: what other modules may import (anything else is internal). */
export { SandboxesModule } from './sandboxes.module.js';
