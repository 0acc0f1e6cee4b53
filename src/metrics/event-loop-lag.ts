// nodejs_eventloop_lag_seconds, measured when scraped: how long a callback
// queued with setImmediate waits to run. No timer runs between scrapes (see
// node-process-series.ts for why prom-client's monitor is left out).

import { Gauge, Registry } from './prom-client-parts';

export function registerEventLoopLag(registry: Registry): void {
  new Gauge({
    name: 'nodejs_eventloop_lag_seconds',
    help: 'Lag of event loop in seconds, measured at scrape time (delay of a setImmediate callback).',
    registers: [registry],
    async collect() {
      const queuedAt = performance.now();
      await new Promise((resolve) => setImmediate(resolve));
      this.set((performance.now() - queuedAt) / 1000);
    },
  });
}
