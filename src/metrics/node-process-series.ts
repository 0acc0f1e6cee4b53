// prom-client's process and Node.js series, without the one that costs CPU
// while idle: prom-client's event-loop-lag monitor samples every 10 ms (100
// wake-ups a second; 150 ms of CPU and 2,000 context switches per 20 idle
// seconds, measured). The lag is measured when scraped instead
// (event-loop-lag.ts), and its min/max/mean/stddev/percentile series are not
// exposed: they need that continuous sampling. Every other default series
// reads its value when scraped or from V8's GC notifications.

import type { Registry } from './prom-client-parts';

type DefaultSeries = (registry: Registry, config: object) => void;

const SERIES: readonly DefaultSeries[] = [
  require('prom-client/lib/metrics/processCpuTotal'),
  require('prom-client/lib/metrics/osMemoryHeap'),
  require('prom-client/lib/metrics/processOpenFileDescriptors'),
  require('prom-client/lib/metrics/processMaxFileDescriptors'),
  require('prom-client/lib/metrics/processResources'),
  require('prom-client/lib/metrics/processHandles'),
  require('prom-client/lib/metrics/processRequests'),
  require('prom-client/lib/metrics/heapSizeAndUsed'),
  require('prom-client/lib/metrics/heapSpacesSizeAndUsed'),
  require('prom-client/lib/metrics/version'),
  require('prom-client/lib/metrics/gc'),
];

/**
 * prom-client keeps these gauges under counter-style names for compatibility;
 * promtool rejects them, and nodejs_active_handles / _requests / _resources
 * carry the same counts.
 */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function registerNodeProcessSeries(registry: Registry): void {
  for (const register of SERIES) register(registry, {});
  for (const name of MISNAMED) registry.removeSingleMetric(name);
}
