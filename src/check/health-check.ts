// One CSI Probe shared by every caller that asks while it runs, turned into a
// verdict with its reason. Knows nothing of HTTP: /healthz only displays it.
//
// Sharing is what keeps a slow driver from piling up calls: upstream starts a
// Probe per request, so frequent probes against a slow driver stack up.

import { CsiConnection } from '../csi/connection';
import { probe } from '../csi/identity';
import { Logger } from '../log/logger';
import type { MetricsRecorder } from '../metrics/recorder';
import type { DriverDiscovery } from './driver-discovery';

/** Upstream's /healthz body for a driver whose Probe says ready=false. */
export const NOT_READY_REASON = 'driver responded but is not ready';

export interface CheckOutcome {
  readonly healthy: boolean;
  /** "ok", the not-ready text, or the error text: upstream's /healthz body. */
  readonly reason: string;
  readonly durationMs: number;
  /** When the check finished (ms since the epoch). */
  readonly finishedAt: number;
}

export class SharedHealthCheck {
  /** Invariant: set while a Probe is outstanding, and only then. */
  private inFlight: Promise<CheckOutcome> | undefined;
  /** The last finished check. */
  lastOutcome: CheckOutcome | undefined;

  constructor(
    private readonly connection: CsiConnection,
    private readonly discovery: DriverDiscovery,
    private readonly probeTimeoutMs: number,
    private readonly logger: Logger,
    private readonly metrics: MetricsRecorder | undefined,
  ) {}

  /** Runs a check, or joins the one already running. Never rejects. */
  run(): Promise<CheckOutcome> {
    if (this.inFlight) {
      this.metrics?.checkShared();
      return this.inFlight;
    }
    this.inFlight = this.probeOnce().then((outcome) => {
      this.inFlight = undefined;
      this.lastOutcome = outcome;
      this.metrics?.checkCompleted(outcome.healthy);
      return outcome;
    });
    return this.inFlight;
  }

  /** Resolves when the check in flight (if any) has finished. */
  async settled(): Promise<void> {
    await this.inFlight;
  }

  private async probeOnce(): Promise<CheckOutcome> {
    const startedAt = performance.now();
    const outcome = (healthy: boolean, reason: string): CheckOutcome => ({
      healthy,
      reason,
      durationMs: performance.now() - startedAt,
      finishedAt: Date.now(),
    });
    this.logger.infoAt(5, 'Sending probe request to CSI driver', { driver: this.discovery.driverName });
    try {
      const ready = await probe(this.connection, this.probeTimeoutMs);
      if (!ready) {
        this.logger.error(undefined, 'Driver responded but is not ready');
        return outcome(false, NOT_READY_REASON);
      }
      this.logger.infoAt(5, 'Health check succeeded');
      return outcome(true, 'ok');
    } catch (err) {
      // A misbehaving driver is data, not a crash: every failure becomes a failed check with its reason.
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error(message, 'Health check failed');
      return outcome(false, message);
    }
  }
}
