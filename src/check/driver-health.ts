// The driver's health as the sidecar knows it: a verdict on demand (a shared
// Probe once the driver's name is known, what is awaited before that) and a
// snapshot of everything behind it. What /healthz, /readyz and their verbose
// reports show. Both questions are answered from the same shared check, so a
// request of either route may be answered by a Probe the other started.

import type { CsiConnection } from '../csi/connection';
import type { ConnectivityStateName } from '../csi/transport';
import type { DriverDiscovery } from './driver-discovery';
import type { CheckOutcome, SharedHealthCheck } from './health-check';
import { judgeReadiness } from './not-ready-grace';
import type { CancelSignal } from '../cancel-signal';

export interface HealthVerdict {
  readonly healthy: boolean;
  /** "ok", or why not: upstream's /healthz body. */
  readonly reason: string;
}

/**
 * What is asked of the driver: liveness (/healthz: is it alive, upstream's
 * verdict, with the opt-in not-ready grace) or readiness (/readyz: has it
 * answered ready, the CSI spec's `ready`).
 */
export type HealthQuestion = 'liveness' | 'readiness';

export interface HealthSnapshot {
  /** undefined until GetPluginInfo has named the driver. */
  readonly driverName: string | undefined;
  /** The driver's address as upstream logs it. */
  readonly address: string;
  readonly connectionState: ConnectivityStateName;
  readonly lastCheck: CheckOutcome | undefined;
  /** --not-ready-grace in milliseconds; 0 when not set. */
  readonly notReadyGraceMs: number;
}

/** The verdict an outcome gives to `question`. */
function verdictOf(outcome: CheckOutcome, question: HealthQuestion): HealthVerdict {
  const { passed, reason } = question === 'liveness' ? outcome.liveness : judgeReadiness(outcome.answer, outcome.reason);
  return { healthy: passed, reason };
}

export class DriverHealth {
  constructor(
    private readonly connection: CsiConnection,
    private readonly discovery: DriverDiscovery,
    private readonly check: SharedHealthCheck,
  ) {}

  /**
   * Never rejects: a failing or absent driver is a verdict with its reason.
   * `clientGone` aborts when the asking client has gone (see SharedHealthCheck.run).
   */
  async verdict(clientGone?: CancelSignal, question: HealthQuestion = 'liveness'): Promise<HealthVerdict> {
    // Serving from the start: before the name is known, say what is awaited instead of probing.
    if (this.discovery.driverName === undefined) return { healthy: false, reason: this.discovery.waitingReason() };
    return verdictOf(await this.check.run(clientGone), question);
  }

  /**
   * The verdict of a check that finished less than `maxAgeMs` ago, without
   * waiting for one; undefined if there is none. Keeps recent verdicts coming
   * for the requests after this one (SharedHealthCheck.refresh).
   */
  recentVerdict(maxAgeMs: number, question: HealthQuestion = 'liveness'): HealthVerdict | undefined {
    if (this.discovery.driverName === undefined) return undefined;
    this.check.refresh();
    const outcome = this.check.recentOutcome(maxAgeMs);
    return outcome && verdictOf(outcome, question);
  }

  snapshot(): HealthSnapshot {
    return {
      driverName: this.discovery.driverName,
      address: this.connection.address.display,
      connectionState: this.connection.state,
      lastCheck: this.check.lastOutcome,
      notReadyGraceMs: this.check.notReadyGraceMs,
    };
  }
}
