// /healthz: one CSI Probe shared by every request that arrives while it runs,
// turned into upstream's status codes and bodies; /healthz?verbose adds a report.
//
// Sharing is what keeps a slow driver from piling up calls: upstream starts a
// Probe per request, so frequent probes against a slow driver stack up.

import { CsiConnection } from '../csi/connection';
import { DriverDiscovery } from '../csi/driver-discovery';
import { probe } from '../csi/identity';
import { Logger } from '../log/logger';
import { MetricsRecorder } from '../metrics/recorder';
import { formatHealthReport } from './healthz-report';
import type { RequestHead } from './request-head';
import { HttpResponse, textResponse } from './response';

export const NOT_READY_BODY = 'driver responded but is not ready';

export interface CheckOutcome {
  readonly healthy: boolean;
  /** The /healthz body: "ok", the not-ready text, or the error text. */
  readonly body: string;
  readonly durationMs: number;
  /** When the check finished (ms since the epoch). */
  readonly finishedAt: number;
}

export class SharedHealthCheck {
  /** Invariant: set while a Probe is outstanding, and only then. */
  private inFlight: Promise<CheckOutcome> | undefined;
  /** The last finished check, for /healthz?verbose. */
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
    const outcome = (healthy: boolean, body: string): CheckOutcome => ({
      healthy,
      body,
      durationMs: performance.now() - startedAt,
      finishedAt: Date.now(),
    });
    this.logger.infoAt(5, 'Sending probe request to CSI driver', { driver: this.discovery.driverName });
    try {
      const ready = await probe(this.connection, this.probeTimeoutMs);
      if (!ready) {
        this.logger.error(undefined, 'Driver responded but is not ready');
        return outcome(false, NOT_READY_BODY);
      }
      this.logger.infoAt(5, 'Health check succeeded');
      return outcome(true, 'ok');
    } catch (err) {
      // A misbehaving driver is data, not a crash: every failure becomes a 500 with its reason.
      const message = err instanceof Error ? err.message : String(err);
      this.logger.error(message, 'Health check failed');
      return outcome(false, message);
    }
  }
}

export interface HealthzDependencies {
  readonly check: SharedHealthCheck;
  readonly discovery: DriverDiscovery;
  readonly connection: CsiConnection;
  readonly metrics: MetricsRecorder | undefined;
}

/** Monitoring systems and proxies must never serve a stale health answer. */
const NO_STORE = { 'Cache-Control': 'no-store' };

export function createHealthzHandler({ check, discovery, connection, metrics }: HealthzDependencies) {
  return async (request: RequestHead): Promise<HttpResponse> => {
    let healthy = false;
    let body: string;
    if (discovery.driverName === undefined) {
      // Serving from the start: say what is awaited instead of refusing the connection.
      body = discovery.waitingReason();
    } else {
      const outcome = await check.run();
      healthy = outcome.healthy;
      body = outcome.body;
    }
    const status = healthy ? 200 : 500;
    if (wantsVerbose(request.query)) {
      body = formatHealthReport({ healthy, body, discovery, connection, lastOutcome: check.lastOutcome });
    }
    metrics?.healthzAnswered(status);
    return textResponse(status, body, NO_STORE);
  };
}

/** "?verbose", "?verbose=1", "?verbose=true" (as the Kubernetes API server's /healthz). */
function wantsVerbose(query: string): boolean {
  if (query === '') return false;
  const verbose = new URLSearchParams(query).get('verbose');
  return verbose !== null && verbose !== '0' && verbose !== 'false';
}
