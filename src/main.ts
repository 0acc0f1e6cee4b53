// Wiring only: flags -> logger -> HTTP listeners -> CSI connection -> driver name.
//
// Start-up order: listen first, so the kubelet gets an explanatory 500
// ("waiting for CSI driver at ...") instead of "connection refused" while the
// driver is late; then learn the driver's name, waiting for the driver without
// a time limit (as upstream). Exit codes: 0 after -h/--help, --version or a clean
// shutdown, 1 for a flag conflict, a listen failure, or a driver that answers
// GetPluginInfo with an error or an empty name, 2 for a bad flag (usage on stderr).

import { FlagError, OptionsConflictError, parseSidecarOptions, createSidecarFlagSet, SidecarOptions } from './cli/options';
import { CsiConnection } from './csi/connection';
import { DriverDiscovery } from './csi/driver-discovery';
import type { CsiTransportFactory } from './csi/transport';
import { createHttp2Transport } from './csi/transports/http2-transport';
import { createHealthzHandler, SharedHealthCheck } from './http/healthz';
import { createMetricsHandler } from './http/metrics-endpoint';
import { ConnectionBudget } from './http/connection-budget';
import { chooseConnectionBudget, readOpenFileLimit } from './http/connection-sizing';
import { HttpListener, RouteHandler } from './http/server';
import { ShedReport } from './http/shed-report';
import { Logger } from './log/logger';
import type { MetricsRecorder } from './metrics/recorder';
import type { SidecarMetrics } from './metrics/sidecar-metrics';
import { ignoreUserSignals } from './ignored-signals';
import { nodeOptionsNotice } from './node-options-notice';
import { installGracefulShutdown } from './shutdown';
import { versionLine } from './version';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function parseOptionsOrExit(argv: readonly string[]): SidecarOptions {
  try {
    return parseSidecarOptions(argv);
  } catch (err) {
    if (err instanceof FlagError) {
      // Go's flag package: the problem, then usage, on stderr; help exits 0.
      if (err.code === 'ERR_FLAG_USAGE') process.stderr.write(`${err.message}\n`);
      process.stderr.write(createSidecarFlagSet().usage());
      process.exit(err.code === 'ERR_FLAG_HELP' ? EXIT_OK : EXIT_USAGE);
    }
    if (err instanceof OptionsConflictError) {
      new Logger({ format: 'text', verbosity: 0 }).error(undefined, err.message);
      process.exit(EXIT_FAILURE);
    }
    throw err;
  }
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

async function listenOrExit(listener: HttpListener, logger: Logger, message: string): Promise<void> {
  try {
    const boundAddress = await listener.listen();
    logger.info(message, { address: boundAddress });
  } catch (err) {
    logger.error(err, 'Failed to start http server');
    process.exit(EXIT_FAILURE);
  }
}

/** Runs the sidecar with process.argv; the transport is a parameter so the benchmark can run the grpc-js one. */
export async function main(createTransport: CsiTransportFactory = createHttp2Transport): Promise<void> {
  const options = parseOptionsOrExit(process.argv.slice(2));
  if (options.showVersion) {
    process.stdout.write(`${versionLine()}\n`);
    process.exit(EXIT_OK);
  }
  const logger = new Logger({
    format: options.loggingFormat,
    verbosity: options.verbosity,
    infoStream: options.splitStream ? process.stdout : process.stderr,
  });
  ignoreUserSignals(logger);
  const nodeOptions = nodeOptionsNotice(process.env);
  if (nodeOptions) logger.warning(nodeOptions.message, nodeOptions.fields);
  for (const notice of options.notices) logger.warning(notice);
  const metrics = createMetricsIfServed(options);
  if (metrics) logger.onLineDropped = () => metrics.logLineDropped();

  const connection = new CsiConnection(options.csiAddress, logger, metrics, createTransport);
  const discovery = new DriverDiscovery(connection, options.probeTimeoutMs, logger);
  const check = new SharedHealthCheck(connection, discovery, options.probeTimeoutMs, logger, metrics);
  const budget = createConnectionBudget(logger, metrics);
  const listeners: HttpListener[] = [];
  installGracefulShutdown({
    logger,
    listeners: () => listeners,
    check,
    connection,
    probeTimeoutMs: options.probeTimeoutMs,
    exit: (code) => process.exit(code),
  });

  const healthRoutes = new Map<string, RouteHandler>([['/healthz', createHealthzHandler({ check, discovery, connection, metrics })]]);
  if (metrics && options.metricsListen) {
    const metricsRoutes = new Map([[options.metricsPath, createMetricsHandler(metrics)]]);
    const metricsListener = new HttpListener(options.metricsListen, metricsRoutes, '--metrics-address', budget);
    listeners.push(metricsListener);
    await listenOrExit(metricsListener, logger, 'Separate metrics ServeMux listening');
  }
  if (metrics && options.metricsOnHealthListener) healthRoutes.set(options.metricsPath, createMetricsHandler(metrics));
  const healthListener = new HttpListener(options.healthListen, healthRoutes, options.metricsOnHealthListener ? '--http-endpoint' : '--health-port', budget);
  listeners.push(healthListener);
  await listenOrExit(healthListener, logger, 'ServeMux listening');

  logger.info('Calling CSI driver to discover driver name', { address: options.csiAddress.display });
  try {
    const driverName = await discovery.run();
    logger.info('CSI driver name', { driver: driverName });
    metrics?.driverNameKnown(driverName);
  } catch (err) {
    logger.error(err, 'Failed to get CSI driver name');
    process.exit(EXIT_FAILURE);
  }
}

if (require.main === module) void main();
