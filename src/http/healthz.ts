// /healthz: one CSI Probe shared by every request that arrives while it runs,
// turned into upstream's status codes and bodies.
//
// Sharing is what keeps a slow driver from piling up calls: upstream starts a
// Probe per request, so frequent probes against a slow driver stack up.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { CsiConnection } from '../csi/connection';
import { probe } from '../csi/identity';
import { Logger } from '../log/logger';
import { MetricsRecorder } from '../metrics/recorder';
import { sendText } from './respond';

export const NOT_READY_BODY = 'driver responded but is not ready';

export interface CheckOutcome {
  readonly healthy: boolean;
  /** The /healthz body: "ok", the not-ready text, or the error text. */
  readonly body: string;
  /** Why the check failed, when it failed with an error. */
  readonly error: Error | undefined;
  readonly durationMs: number;
}

export class SharedHealthCheck {
  /** Invariant: set while a Probe is outstanding, and only then. */
  private inFlight: Promise<CheckOutcome> | undefined;

  constructor(
    private readonly connection: CsiConnection,
    private readonly driverName: string,
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
      this.metrics?.checkCompleted(outcome.healthy);
      return outcome;
    });
    return this.inFlight;
  }

  private async probeOnce(): Promise<CheckOutcome> {
    const startedAt = performance.now();
    this.logger.infoAt(5, 'Sending probe request to CSI driver', { driver: this.driverName });
    const elapsed = () => performance.now() - startedAt;
    try {
      const ready = await probe(this.connection, this.probeTimeoutMs);
      if (!ready) {
        this.logger.error(undefined, 'Driver responded but is not ready');
        return { healthy: false, body: NOT_READY_BODY, error: undefined, durationMs: elapsed() };
      }
      this.logger.infoAt(5, 'Health check succeeded');
      return { healthy: true, body: 'ok', error: undefined, durationMs: elapsed() };
    } catch (err) {
      // A misbehaving driver is data, not a crash: every failure becomes a 500 with its reason.
      const error = err instanceof Error ? err : new Error(String(err));
      this.logger.error(error, 'Health check failed');
      return { healthy: false, body: error.message, error, durationMs: elapsed() };
    }
  }
}

export function createHealthzHandler(check: SharedHealthCheck, metrics: MetricsRecorder | undefined) {
  return async (_request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const outcome = await check.run();
    const status = outcome.healthy ? 200 : 500;
    sendText(response, status, outcome.body);
    metrics?.healthzAnswered(status);
  };
}
