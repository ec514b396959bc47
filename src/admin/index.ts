/** The public face of `admin/`: what other modules may import (anything else is internal). */
export { AdminModule } from './admin.module.js';
