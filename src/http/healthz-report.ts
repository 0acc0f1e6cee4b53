// The plain-text report of /healthz?verbose: what a person debugging a pod
// wants to see in one curl. Nothing secret: names, states, timings.

import { formatGoDuration } from '../cli/duration';
import type { CsiConnection } from '../csi/connection';
import type { DriverDiscovery } from '../csi/driver-discovery';
import type { CheckOutcome } from './healthz';

export interface HealthReportInput {
  readonly healthy: boolean;
  /** The plain /healthz body of this request. */
  readonly body: string;
  readonly discovery: DriverDiscovery;
  readonly connection: CsiConnection;
  readonly lastOutcome: CheckOutcome | undefined;
}

/** Milliseconds, rounded to microseconds, as a Go duration ("1.234ms"). */
const formatLatency = (ms: number) => formatGoDuration(Math.round(ms * 1000) / 1000);

export function formatHealthReport(input: HealthReportInput): string {
  const { discovery, connection, lastOutcome } = input;
  const lines = [
    `driver: ${discovery.driverName ?? '(not known yet)'}`,
    `address: ${connection.address.display}`,
    `connection: ${connection.state}`,
  ];
  if (lastOutcome) {
    lines.push(
      `last check: ${lastOutcome.healthy ? 'healthy' : 'failed'}`,
      `last check reason: ${lastOutcome.body}`,
      `last check latency: ${formatLatency(lastOutcome.durationMs)}`,
      `last check time: ${new Date(lastOutcome.finishedAt).toISOString()}`,
    );
  } else {
    lines.push('last check: none yet');
  }
  lines.push(`uptime: ${formatGoDuration(Math.round(process.uptime()) * 1000)}`);
  lines.push(input.healthy ? 'healthz check passed' : `healthz check failed: ${input.body}`);
  return lines.join('\n') + '\n';
}
