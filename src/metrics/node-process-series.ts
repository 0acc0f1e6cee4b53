// prom-client's process and Node.js series, without the one that costs CPU
// while idle: prom-client's event-loop-lag monitor samples every 10 ms (100
// wake-ups a second; 150 ms of CPU and 2,000 context switches per 20 idle
// seconds, measured). The lag is measured when scraped instead
// (event-loop-lag.ts), and its min/max/mean/stddev/percentile series are not
// exposed: they need that continuous sampling. Every other default series
// reads its value when scraped or from V8's GC notifications.
//
// Registered in two parts (sidecar-metrics.ts): the GC durations at start,
// since they count GCs as they happen; the rest at the first scrape, since
// they read their values when scraped, and loading and registering them (ten
// modules, two dozen metric objects, node:v8 for the heap-space gauges) is
// start-up CPU the first /healthz answer waited for.

import type { Registry } from './prom-client-parts';

type DefaultSeries = (registry: Registry, config: object) => void;

/** Required when called, not at load: see the header. */
const loadScrapeTimeSeries = (): readonly DefaultSeries[] => [
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
];

/**
 * prom-client keeps these gauges under counter-style names for compatibility;
 * promtool rejects them, and nodejs_active_handles / _requests / _resources
 * carry the same counts.
 */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** prom-client's CPU counters, which count from their registration on. */
const CPU_COUNTERS = [
  { name: 'process_cpu_user_seconds_total', micros: (usage: NodeJS.CpuUsage) => usage.user },
  { name: 'process_cpu_system_seconds_total', micros: (usage: NodeJS.CpuUsage) => usage.system },
  { name: 'process_cpu_seconds_total', micros: (usage: NodeJS.CpuUsage) => usage.user + usage.system },
];

/** nodejs_gc_duration_seconds: observes every GC from this call on, so it is registered at start. */
export function registerGcDurations(registry: Registry): void {
  (require('prom-client/lib/metrics/gc') as DefaultSeries)(registry, {});
}

/**
 * Every other default series. The CPU counters start with the CPU the process
 * used before this call, so they count from the process's start wherever it
 * is registered (as Go's process_cpu_seconds_total, read from /proc, does).
 */
export function registerNodeProcessSeries(registry: Registry): void {
  const usedBefore = process.cpuUsage(); // read first: the few microseconds until prom-client's own read are not counted twice
  for (const register of loadScrapeTimeSeries()) register(registry, {});
  for (const name of MISNAMED) registry.removeSingleMetric(name);
  for (const counter of CPU_COUNTERS) {
    const metric = registry.getSingleMetric(counter.name) as { inc(value: number): void } | undefined;
    if (!metric) throw new Error(`prom-client registered no ${counter.name}: the installed prom-client is not the one this code was written for`);
    metric.inc(counter.micros(usedBefore) / 1e6);
  }
}
