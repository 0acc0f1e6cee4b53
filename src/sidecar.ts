// The whole sidecar, started in-process from typed options: listeners, the
// connection to the driver, the shared check, metrics, and a graceful close.
// main.ts only adds what a process has: argv, signals and exit codes.
//
// Start-up order: listen first, so the kubelet gets an explanatory 500
// ("waiting for CSI driver at ...") instead of "connection refused" while the
// driver is late; then learn the driver's name, waiting for the driver without
// a time limit (as upstream).

import { DriverDiscovery } from './check/driver-discovery';
import { DriverHealth } from './check/driver-health';
import { SharedHealthCheck } from './check/health-check';
import type { SidecarOptions } from './cli/options';
import { CsiConnection } from './csi/connection';
import { ConnectionBudget } from './http/connection-budget';
import { chooseConnectionBudget, readOpenFileLimit } from './http/connection-sizing';
import { createHealthzHandler, createReadyzHandler, HEALTHZ_PATH, READYZ_PATH } from './http/healthz';
import { createMetricsHandler } from './http/metrics-endpoint';
import { HttpListener, ListenError, RouteHandler } from './http/server';
import { ShedReport } from './http/shed-report';
import type { Logger } from './log/logger';
import { formatMebibytes, MEMORY_NEED_BYTES, readContainerMemoryLimit, RECOMMENDED_MEMORY_LIMIT } from './memory-limit';
import type { MetricsRecorder } from './metrics/recorder';
import type { SidecarMetrics } from './metrics/sidecar-metrics';

/** The whole close finishes within this; main exits anyway once it has passed. */
export const SHUTDOWN_LIMIT_MS = 5_000;
/** Longest wait for the check in flight; the rest of the limit is for answering and closing. */
const CHECK_GRACE_LIMIT_MS = 4_000;
/** Time for answers already written to reach their clients before connections are cut. */
const FLUSH_MS = 100;

export type ListenerRole = 'health' | 'metrics';

/** A listener could not start; `role` says which, so the caller can name the flag that set it. */
export class SidecarListenError extends Error {
  readonly code = 'ERR_SIDECAR_LISTEN';

  constructor(
    readonly role: ListenerRole,
    readonly cause: ListenError,
  ) {
    super(cause.message, { cause });
  }
}

export interface RunningSidecar {
  /** Where /healthz is served, as bound ("127.0.0.1:43120"). */
  readonly healthAddress: string;
  /** Where the separate metrics listener (--metrics-address) is bound; undefined without one. */
  readonly metricsAddress: string | undefined;
  readonly health: DriverHealth;
  /**
   * The driver's name once GetPluginInfo gave one; undefined when the sidecar
   * was closed first. Rejects when the driver answered wrongly (an error other
   * than Unavailable or DeadlineExceeded, or an empty name).
   */
  readonly driverName: Promise<string | undefined>;
  /**
   * Stops accepting, lets the check in flight finish (bounded), closes the
   * connection to the driver (a Probe still running gets a 500), then every
   * HTTP connection. Resolves within about SHUTDOWN_LIMIT_MS.
   */
  close(): Promise<void>;
}

/** prom-client is loaded only when metrics are served: most pods never scrape the sidecar. */
function createMetricsIfServed(options: SidecarOptions): SidecarMetrics | undefined {
  if (!options.metricsOnHealthListener && !options.metricsListen) return undefined;
  // require, not import(): a dynamic import would start Node's ESM loader, which costs memory for nothing here.
  const { SidecarMetrics } = require('./metrics/sidecar-metrics') as typeof import('./metrics/sidecar-metrics');
  return new SidecarMetrics();
}

/** One budget for every listener: file descriptors and memory are the process's. */
function createConnectionBudget(logger: Logger, metrics: MetricsRecorder | undefined): ConnectionBudget {
  const openFileLimit = readOpenFileLimit();
  if ('unknown' in openFileLimit) logger.warning('Open-file limit unknown; sizing the HTTP connection budget by memory only', { reason: openFileLimit.unknown });
  const { maxConnections, limitedBy } = chooseConnectionBudget(openFileLimit);
  logger.infoAt(2, 'HTTP connection budget', { connections: maxConnections, limitedBy, openFileLimit: 'soft' in openFileLimit ? openFileLimit.soft : 'unknown' });
  const report = new ShedReport(logger, metrics, maxConnections);
  return new ConnectionBudget(maxConnections, (reason) => report.record(reason));
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `promise`, or `limitMs`, whichever comes first; leaves no timer behind. */
async function waitAtMost(promise: Promise<unknown>, limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)))]);
  clearTimeout(timer);
}

/** One warning at -v=0 when the container's memory limit is below the measured need (an OOM kill fails every probe). */
function warnOfLowMemoryLimit(logger: Logger): void {
  const limit = readContainerMemoryLimit();
  if (limit === undefined || limit >= MEMORY_NEED_BYTES) return;
  logger.warning('Container memory limit is below what this sidecar may need; it can be OOM-killed under load, and every probe then fails', {
    limit: formatMebibytes(limit),
    need: formatMebibytes(MEMORY_NEED_BYTES),
    fix: `raise this container's resources.limits.memory to ${RECOMMENDED_MEMORY_LIMIT} (no flag lowers the need; charts made for the Go sidecar set 20-30Mi)`,
  });
}

/** Starts serving; resolves once every listener listens. Rejects with SidecarListenError, having closed what it opened. */
export async function startSidecar(options: SidecarOptions, logger: Logger): Promise<RunningSidecar> {
  warnOfLowMemoryLimit(logger);
  const metrics = createMetricsIfServed(options);
  if (metrics) logger.onLineDropped = () => metrics.logLineDropped();
  const connection = new CsiConnection(options.csiAddress, logger, metrics);
  const discovery = new DriverDiscovery(connection, logger);
  const check = new SharedHealthCheck(connection, discovery, options.probeTimeoutMs, logger, metrics, options.notReadyGraceMs);
  const health = new DriverHealth(connection, discovery, check);
  const budget = createConnectionBudget(logger, metrics);
  const listeners: HttpListener[] = [];

  const listen = async (role: ListenerRole, routes: ReadonlyMap<string, RouteHandler>, message: string): Promise<string> => {
    const address = role === 'health' ? options.healthListen : options.metricsListen!;
    const listener = new HttpListener(address, routes, budget);
    try {
      const bound = await listener.listen();
      listeners.push(listener);
      logger.info(message, { address: bound.address, ipVersions: bound.stack });
      return bound.address;
    } catch (err) {
      for (const opened of listeners) {
        opened.stopAccepting();
        opened.closeConnections();
      }
      connection.close();
      throw err instanceof ListenError ? new SidecarListenError(role, err) : err;
    }
  };

  let metricsAddress: string | undefined;
  if (metrics && options.metricsListen) {
    metricsAddress = await listen('metrics', new Map([[options.metricsPath, createMetricsHandler(metrics)]]), 'Separate metrics ServeMux listening');
  }
  const healthRoutes = new Map<string, RouteHandler>([
    [HEALTHZ_PATH, createHealthzHandler(health, metrics)],
    [READYZ_PATH, createReadyzHandler(health, metrics)],
  ]);
  // Set last: a --metrics-path of /readyz (upstream has no /readyz) takes the path, as it did before /readyz existed.
  if (metrics && options.metricsOnHealthListener) healthRoutes.set(options.metricsPath, createMetricsHandler(metrics));
  const healthAddress = await listen('health', healthRoutes, 'ServeMux listening');

  logger.info('Calling CSI driver to discover driver name', { address: options.csiAddress.display });
  const driverName = discovery.run().then((name) => {
    if (name !== undefined) {
      logger.info('CSI driver name', { driver: name });
      metrics?.driverNameKnown(name);
    }
    return name;
  });
  driverName.catch(() => {}); // the caller decides what a wrong answer means; never an unhandled rejection

  let closing: Promise<void> | undefined;
  const close = async () => {
    for (const listener of listeners) listener.stopAccepting();
    discovery.stop();
    // The check in flight gets up to its own timeout, within the shutdown limit.
    await waitAtMost(check.settled(), Math.min(options.probeTimeoutMs, CHECK_GRACE_LIMIT_MS));
    connection.close(); // cancels a Probe still running: its waiters get a 500
    await delay(FLUSH_MS);
    for (const listener of listeners) listener.closeConnections();
  };
  return {
    healthAddress,
    metricsAddress,
    health,
    driverName,
    close: () => (closing ??= close()),
  };
}
