// Every series the sidecar exposes: upstream's histogram and
// process_start_time_seconds, prom-client's process and Node.js metrics, and
// our own under the csi_livenessprobe_ prefix. Registries of our own; nothing
// global; no timer runs between scrapes.
//
// Series that count events (ours, the GC durations) are registered at start,
// so that what happens before the first scrape is counted. Series that read
// their value when scraped (process start time, memory, file descriptors,
// CPU, event-loop lag) are loaded and registered at the first scrape: the
// start-up CPU they cost delayed the first /healthz answer, and most pods are
// scraped late or never. The exposition lists the families in one order
// whenever each part was registered.

import { CsiOperationsHistogram } from './csi-operations';
import { registerEventLoopLag } from './event-loop-lag';
import { registerGcDurations, registerNodeProcessSeries } from './node-process-series';
import { registerProcessStartTime } from './process-start-time';
import { Counter, Gauge, Registry } from './prom-client-parts';
import { MetricsRecorder } from './recorder';

const PREFIX = 'csi_livenessprobe_';

/** The series read when scraped, in two registries for the exposition's order; loads prom-client's default series. */
function registerScrapeTimeSeries(): { readonly processSeries: Registry; readonly eventLoopLag: Registry } {
  const processSeries = new Registry();
  registerProcessStartTime(processSeries);
  registerNodeProcessSeries(processSeries);
  const eventLoopLag = new Registry();
  registerEventLoopLag(eventLoopLag);
  return { processSeries, eventLoopLag };
}

export class SidecarMetrics implements MetricsRecorder {
  /** Our own series and upstream's histogram, registered at start. */
  private readonly registry = new Registry();
  /** nodejs_gc_duration_seconds, registered at start: it counts each GC as it happens. */
  private readonly gcRegistry = new Registry();
  /** Every series, in the exposition's order; undefined until the first scrape. */
  private everySeries: Registry | undefined;
  private readonly operations = new CsiOperationsHistogram(this.registry);
  private readonly lastCheckSuccess = new Gauge({
    name: `${PREFIX}last_check_success`,
    help: 'Result of the last /healthz check: 1 healthy, 0 failed (0 until a check has run).',
    registers: [this.registry],
  });
  private readonly lastSuccessTime = new Gauge({
    name: `${PREFIX}last_success_timestamp_seconds`,
    help: 'Unix time of the last healthy check (0 until one succeeds).',
    registers: [this.registry],
  });
  /**
   * The CSI spec's `ready`, kept apart from the check's success: with
   * --not-ready-grace a not-ready driver passes /healthz. No sample until the
   * driver has answered a Probe (prom-client gives an unlabelled gauge a 0,
   * removed in the constructor): "not ready" is not known before that.
   */
  private readonly driverReady = new Gauge({
    name: `${PREFIX}driver_ready`,
    help: "The CSI driver's last Probe answer: 1 ready (ready true or absent), 0 not ready (initializing); failed calls leave it; no sample before the first answer.",
    registers: [this.registry],
  });
  private readonly healthzRequests = new Counter({
    name: `${PREFIX}healthz_requests_total`,
    help: '/healthz requests answered, by HTTP status code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly readyzRequests = new Counter({
    name: `${PREFIX}readyz_requests_total`,
    help: '/readyz requests answered, by HTTP status code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly sharedChecks = new Counter({
    name: `${PREFIX}shared_checks_total`,
    help: '/healthz and /readyz requests that joined the Probe already in flight instead of starting another.',
    registers: [this.registry],
  });
  private readonly connectionTransitions = new Counter({
    name: `${PREFIX}connection_transitions_total`,
    help: 'gRPC connection state changes to the CSI driver, by previous and new state; to="READY" counts (re)connections.',
    labelNames: ['from', 'to'],
    registers: [this.registry],
  });
  private readonly connectionsShed = new Counter({
    name: `${PREFIX}http_connections_shed_total`,
    help: 'HTTP connections closed early to keep the connection budget or because the client pipelined or did not read, by reason.',
    labelNames: ['reason'],
    registers: [this.registry],
  });

  private readonly logLinesDropped = new Counter({
    name: `${PREFIX}log_lines_dropped_total`,
    help: 'Log lines dropped because the log output (stderr or stdout) did not keep up with the log rate.',
    registers: [this.registry],
  });

  constructor() {
    this.driverReady.remove();
    registerGcDurations(this.gcRegistry);
  }

  csiCallCompleted(method: string, statusName: string, seconds: number): void {
    this.operations.observe(method, statusName, seconds);
  }

  driverNameKnown(name: string): void {
    this.operations.setDriverName(name);
  }

  checkCompleted(healthy: boolean): void {
    this.lastCheckSuccess.set(healthy ? 1 : 0);
    if (healthy) this.lastSuccessTime.set(Date.now() / 1000);
  }

  driverReadyAnswered(ready: boolean): void {
    this.driverReady.set(ready ? 1 : 0);
  }

  checkShared(): void {
    this.sharedChecks.inc();
  }

  healthzAnswered(statusCode: number): void {
    this.healthzRequests.inc({ code: String(statusCode) });
  }

  readyzAnswered(statusCode: number): void {
    this.readyzRequests.inc({ code: String(statusCode) });
  }

  httpConnectionShed(reason: string): void {
    this.connectionsShed.inc({ reason });
  }

  logLineDropped(): void {
    this.logLinesDropped.inc();
  }

  connectionStateChanged(from: string, to: string): void {
    this.connectionTransitions.inc({ from, to });
  }

  /**
   * The text exposition and its content type. Reads only in-memory values: no
   * CSI call. The first call registers the series read when scraped.
   */
  async exposition(): Promise<{ contentType: string; body: string }> {
    if (!this.everySeries) {
      const { processSeries, eventLoopLag } = registerScrapeTimeSeries();
      this.everySeries = Registry.merge([this.registry, processSeries, this.gcRegistry, eventLoopLag]);
    }
    return { contentType: this.everySeries.contentType, body: await this.everySeries.metrics() };
  }
}
