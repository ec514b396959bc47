/** The public face of `health/`: what other modules may import (anything else is internal). */
export { HealthModule } from './health.module.js';
