import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../metrics/index.js';

export type Namespace = '/qr' | '/me';

/** Socket metrics, in the app's registry (`GET /metrics`). */
@Injectable()
export class RealtimeMetrics {
  private readonly sockets: Gauge<'namespace'>;
  private readonly events: Counter<'namespace' | 'event'>;
  private readonly refused: Counter<'namespace' | 'code'>;
  private readonly adapterErrors: Counter;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.sockets = new Gauge({
      name: 'realtime_sockets',
      help: 'Connected sockets on this instance, by namespace',
      labelNames: ['namespace'],
      registers,
    });
    this.events = new Counter({
      name: 'realtime_events_emitted_total',
      help: 'Events emitted to sockets, by namespace and event',
      labelNames: ['namespace', 'event'],
      registers,
    });
    this.refused = new Counter({
      name: 'realtime_handshakes_refused_total',
      help: 'Refused socket handshakes, by namespace and error code',
      labelNames: ['namespace', 'code'],
      registers,
    });
    this.adapterErrors = new Counter({
      name: 'realtime_adapter_errors_total',
      help: 'Errors of the Socket.IO Redis adapter connections',
      registers,
    });
    for (const namespace of ['/qr', '/me']) this.sockets.set({ namespace }, 0);
  }

  connected(namespace: Namespace): void {
    this.sockets.inc({ namespace });
  }

  disconnected(namespace: Namespace): void {
    this.sockets.dec({ namespace });
  }

  emitted(namespace: Namespace, event: string): void {
    this.events.inc({ namespace, event });
  }

  refusedHandshake(namespace: Namespace, code: string): void {
    this.refused.inc({ namespace, code });
  }

  adapterError(): void {
    this.adapterErrors.inc();
  }
}
