import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/index.js';
import { MetricsModule } from '../metrics/index.js';
import { QrLoginModule } from '../qr-login/index.js';
import { MeGateway } from './me.gateway.js';
import { QrGateway } from './qr.gateway.js';
import { RealtimeMetrics } from './realtime.metrics.js';

/**
 * Socket.IO: `/qr` for browsers waiting on a QR session, `/me` for signed-in
 * phones. It authenticates, joins rooms and forwards the events the services
 * publish on the store; it holds no business logic, and no module imports it.
 * The server itself (options, Redis adapter) is `RealtimeIoAdapter`, installed
 * by `configureApp`.
 */
@Module({
  imports: [AuthModule, QrLoginModule, MetricsModule],
  providers: [QrGateway, MeGateway, RealtimeMetrics],
})
export class RealtimeModule {}
