// Where the shipped PodMonitor scrapes, and whether a sidecar's args serve metrics there: read with the
// sidecar's own flag parser, so a snippet or manifest that serves /healthz only (--health-port alone, which
// serves no metrics, as upstream) is caught before a PodMonitor pointed at it fires CSILivenessProbeDown.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { parseSidecarOptions } from '../../src/cli/options';
import { REPO_ROOT } from './image';

/** The named container port and the path deploy/monitoring/pod-monitor.yaml scrapes. */
export function podMonitorEndpoint(): { port: string; path: string } {
  const podMonitor = parse(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'monitoring', 'pod-monitor.yaml'), 'utf8')) as {
    spec: { podMetricsEndpoints: { port: string; path?: string }[] };
  };
  const [endpoint] = podMonitor.spec.podMetricsEndpoints;
  return { port: endpoint.port, path: endpoint.path ?? '/metrics' };
}

/**
 * What keeps a sidecar started with `args` from serving metrics at `metricsPath` on TCP port `port`, or
 * undefined when it serves them there (--http-endpoint on that port, or --metrics-address on it).
 * Throws what parseSidecarOptions throws for args the sidecar would refuse.
 */
export function servesMetricsAt(args: readonly string[], port: number, metricsPath: string): string | undefined {
  const options = parseSidecarOptions(args);
  const onPort = options.metricsListen?.port === port || (options.metricsOnHealthListener && options.healthListen.port === port);
  if (!onPort) {
    return `${args.join(' ')}: no metrics on port ${port}; metrics are served only with --http-endpoint (beside /healthz) or --metrics-address`;
  }
  if (options.metricsPath !== metricsPath) return `${args.join(' ')}: metrics at ${options.metricsPath}, scraped at ${metricsPath}`;
  return undefined;
}
