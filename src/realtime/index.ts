/** The public face of `realtime/`: what other modules may import (anything else is internal). */
export { RealtimeIoAdapter } from './realtime.io-adapter.js';
export { RealtimeModule } from './realtime.module.js';
