// The driver's health as the sidecar knows it: a verdict on demand (a shared
// Probe once the driver's name is known, what is awaited before that) and a
// snapshot of everything behind it. What /healthz and its verbose report show.

import type { CsiConnection } from '../csi/connection';
import type { ConnectivityStateName } from '../csi/transport';
import type { DriverDiscovery } from './driver-discovery';
import type { CheckOutcome, SharedHealthCheck } from './health-check';
import type { CancelSignal } from '../cancel-signal';

export interface HealthVerdict {
  readonly healthy: boolean;
  /** "ok", or why not: upstream's /healthz body. */
  readonly reason: string;
}

export interface HealthSnapshot {
  /** undefined until GetPluginInfo has named the driver. */
  readonly driverName: string | undefined;
  /** The driver's address as upstream logs it. */
  readonly address: string;
  readonly connectionState: ConnectivityStateName;
  readonly lastCheck: CheckOutcome | undefined;
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
  async verdict(clientGone?: CancelSignal): Promise<HealthVerdict> {
    // Serving from the start: before the name is known, say what is awaited instead of probing.
    if (this.discovery.driverName === undefined) return { healthy: false, reason: this.discovery.waitingReason() };
    const { healthy, reason } = await this.check.run(clientGone);
    return { healthy, reason };
  }

  /**
   * The verdict of a check that finished less than `maxAgeMs` ago, without
   * waiting for one; undefined if there is none. Keeps recent verdicts coming
   * for the requests after this one (SharedHealthCheck.refresh).
   */
  recentVerdict(maxAgeMs: number): HealthVerdict | undefined {
    if (this.discovery.driverName === undefined) return undefined;
    this.check.refresh();
    const outcome = this.check.recentOutcome(maxAgeMs);
    return outcome && { healthy: outcome.healthy, reason: outcome.reason };
  }

  snapshot(): HealthSnapshot {
    return {
      driverName: this.discovery.driverName,
      address: this.connection.address.display,
      connectionState: this.connection.state,
      lastCheck: this.check.lastOutcome,
    };
  }
}
