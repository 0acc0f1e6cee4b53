// process_start_time_seconds with upstream's HELP text: the Go sidecar
// registers it through Kubernetes component-base, which marks it [ALPHA].

import { Gauge, Registry } from './prom-client-parts';

export function registerProcessStartTime(registry: Registry): void {
  const startSeconds = Date.now() / 1000 - process.uptime();
  new Gauge({
    name: 'process_start_time_seconds',
    help: '[ALPHA] Start time of the process since unix epoch in seconds.',
    registers: [registry],
    collect() {
      this.set(startSeconds);
    },
  });
}
