// The plain-text report of /healthz?verbose: what a person debugging a pod
// wants to see in one curl. Nothing secret: names, states, timings.

import type { HealthSnapshot, HealthVerdict } from '../check/driver-health';
import { formatGoDuration } from '../go/duration';

/** Milliseconds, rounded to microseconds, as a Go duration ("1.234ms"). */
const formatLatency = (ms: number) => formatGoDuration(Math.round(ms * 1000) / 1000);

export function formatHealthReport(verdict: HealthVerdict, snapshot: HealthSnapshot): string {
  const { lastCheck } = snapshot;
  const lines = [`driver: ${snapshot.driverName ?? '(not known yet)'}`, `address: ${snapshot.address}`, `connection: ${snapshot.connectionState}`];
  if (lastCheck) {
    lines.push(
      `last check: ${lastCheck.healthy ? 'healthy' : 'failed'}`,
      `last check reason: ${lastCheck.reason}`,
      `last check latency: ${formatLatency(lastCheck.durationMs)}`,
      `last check time: ${new Date(lastCheck.finishedAt).toISOString()}`,
    );
  } else {
    lines.push('last check: none yet');
  }
  lines.push(`uptime: ${formatGoDuration(Math.round(process.uptime()) * 1000)}`);
  lines.push(verdict.healthy ? 'healthz check passed' : `healthz check failed: ${verdict.reason}`);
  return lines.join('\n') + '\n';
}
