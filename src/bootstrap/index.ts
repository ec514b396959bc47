/** The public face of `bootstrap/`: what other modules may import (anything else is internal). */
export { BootstrapModule } from './bootstrap.module.js';
export { DemoUser } from './demo-user.service.js';
