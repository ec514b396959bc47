/** The public face of `requester/`: what other modules may import (anything else is internal). */
export { normalizeIp } from './ip-address.js';
export { RequesterContextBuilder } from './requester-context.builder.js';
export type { RequesterContext } from './requester-context.js';
export { RequesterModule } from './requester.module.js';
export { type RiskAssessment, assessRisk } from './risk.js';
