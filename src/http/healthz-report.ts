// The plain-text report of /healthz?verbose and /readyz?verbose: what a
// person debugging a pod wants to see in one curl. Nothing secret: names,
// states, timings.

import type { HealthSnapshot, HealthVerdict } from '../check/driver-health';
import { formatMillis, type NotReadyStretch } from '../check/not-ready-grace';
import { formatGoDuration } from '../go/duration';

/** Milliseconds, rounded to microseconds, as a Go duration ("1.234ms"). */
const formatLatency = (ms: number) => formatGoDuration(Math.round(ms * 1000) / 1000);

/**
 * The report's lines, ending with "<route> check passed" or "<route> check
 * failed: <reason>" (`route`: "healthz" or "readyz"). The not-ready lines
 * come only while the driver is in a not-ready stretch, the grace line only
 * with --not-ready-grace.
 */
export function formatHealthReport(verdict: HealthVerdict, snapshot: HealthSnapshot, route: 'healthz' | 'readyz' = 'healthz'): string {
  const { lastCheck } = snapshot;
  const lines = [`driver: ${snapshot.driverName ?? '(not known yet)'}`, `address: ${snapshot.address}`, `connection: ${snapshot.connectionState}`];
  if (lastCheck) {
    lines.push(
      `last check: ${lastCheck.healthy ? 'healthy' : 'failed'}`,
      `last check reason: ${lastCheck.reason}`,
      `last check latency: ${formatLatency(lastCheck.durationMs)}`,
      `last check time: ${new Date(lastCheck.finishedAt).toISOString()}`,
    );
    if (lastCheck.notReady) {
      lines.push(`not ready for: ${formatMillis(lastCheck.notReady.lastedMs)}, since ${new Date(lastCheck.notReady.sinceEpochMs).toISOString()}`);
    }
  } else {
    lines.push('last check: none yet');
  }
  if (snapshot.notReadyGraceMs > 0) lines.push(`not-ready grace: ${describeGrace(snapshot.notReadyGraceMs, lastCheck?.notReady)}`);
  lines.push(`uptime: ${formatGoDuration(Math.round(process.uptime()) * 1000)}`);
  lines.push(verdict.healthy ? `${route} check passed` : `${route} check failed: ${verdict.reason}`);
  return lines.join('\n') + '\n';
}

/** Where the grace stands at the last check: "40s, 27.655s left", "40s, used up", "40s, not running". */
function describeGrace(graceMs: number, notReady: NotReadyStretch | undefined): string {
  const grace = formatGoDuration(graceMs);
  if (!notReady) return `${grace}, not running (the driver's last answer was ready, or none came yet)`;
  if (notReady.lastedMs < graceMs) return `${grace}, ${formatMillis(graceMs - notReady.lastedMs)} left: /healthz passes while the driver is not ready`;
  return `${grace}, used up: /healthz fails while the driver is not ready`;
}
