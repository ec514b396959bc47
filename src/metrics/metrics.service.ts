import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/**
 * The Prometheus registry of this application instance (not prom-client's
 * global one, so several apps in one process, as in tests, stay apart):
 * process metrics plus an HTTP latency histogram labelled by route template.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    this.registry.setDefaultLabels({ service: 'scangate' });
    collectDefaultMetrics({ register: this.registry });
  }

  /** Express middleware timing every request; unmatched paths share one label. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const end = this.httpDuration.startTimer();
    res.once('finish', () => {
      // Only the route template is a label: raw paths would explode cardinality.
      // Nest answers unknown paths from a catch-all route ({/*splat}): "unmatched".
      const template = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : undefined;
      const route = template && !(res.statusCode === 404 && template.includes('*')) ? template : 'unmatched';
      end({ method: req.method, route, status_code: String(res.statusCode) });
    });
    next();
  };

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
