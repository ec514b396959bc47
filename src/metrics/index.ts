/** The public face of `metrics/`: what other modules may import (anything else is internal). */
export { MetricsModule } from './metrics.module.js';
export { MetricsService } from './metrics.service.js';
