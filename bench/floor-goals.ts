// The sidecar's resource goals, read against Node's floor (bench/floor-server.ts) and
// upstream's CPU per check: what the sidecar adds above what Node costs any
// server, and what it spends against the Go sidecar it replaces.

/** Idle RSS the sidecar may hold above the floor's, MiB. */
export const IDLE_ABOVE_FLOOR_LIMIT_MIB = 2;
/** Peak RSS (VmHWM) under the 16-connection flood, MiB. */
export const FLOOD_PEAK_LIMIT_MIB = 60;
/** Peak RSS (VmHWM) with 5,000 attacking connections held, MiB. */
export const HELD_PEAK_LIMIT_MIB = 80;
/** The quota at which start-up is compared with the floor's, millicores. */
export const START_QUOTA_MILLICORES = 100;
/** Time to the first 200 the sidecar may take above the floor's at START_QUOTA_MILLICORES, ms. */
export const START_ABOVE_FLOOR_LIMIT_MS = 300;
/** CPU per check the sidecar may spend, as a share of upstream's: memory may be bought with CPU, up to this. */
export const CPU_SHARE_OF_UPSTREAM_LIMIT = 0.35;
/**
 * Upstream's (kubernetes-csi/livenessprobe, Go) CPU per check, ms: the figure
 * measured on the benchmark machine against the same test driver. The
 * Go binary is not on every machine; give --vs with --vs-is-upstream to measure it.
 */
export const UPSTREAM_CPU_MS_PER_CHECK = 1.225;

export interface FloorGoalInputs {
  readonly oursIdleRssMiB: number;
  readonly floorIdleRssMiB: number;
  readonly oursFloodPeakMiB: number;
  readonly oursHeldPeakMiB: number;
  /** How many connections were held (the goal is set for 5,000). */
  readonly heldConnections: number;
  readonly oursStartMsAtQuota: number;
  readonly floorStartMsAtQuota: number;
  readonly oursCpuMsPerCheck: number;
  readonly upstreamCpuMsPerCheck: number;
  /** Where upstreamCpuMsPerCheck came from ("measured earlier, docs/performance.md", "--vs, measured"). */
  readonly upstreamSource: string;
}

export interface FloorGoal {
  readonly label: string;
  readonly figure: number;
  readonly unit: string;
  readonly limit: number;
  readonly met: boolean;
}

/** Each goal with the figure it is judged on (all at most their limit). */
export function judgeFloorGoals(inputs: FloorGoalInputs): FloorGoal[] {
  const goal = (label: string, figure: number, unit: string, limit: number): FloorGoal => ({ label, figure, unit, limit, met: figure <= limit });
  return [
    goal('idle RSS above the floor', inputs.oursIdleRssMiB - inputs.floorIdleRssMiB, 'MiB', IDLE_ABOVE_FLOOR_LIMIT_MIB),
    goal('RSS peak, 16-connection flood', inputs.oursFloodPeakMiB, 'MiB', FLOOD_PEAK_LIMIT_MIB),
    goal(`RSS peak, ${inputs.heldConnections.toLocaleString('en-US')} held connections`, inputs.oursHeldPeakMiB, 'MiB', HELD_PEAK_LIMIT_MIB),
    goal(`spawn -> first 200 at ${START_QUOTA_MILLICORES}m, above the floor`, inputs.oursStartMsAtQuota - inputs.floorStartMsAtQuota, 'ms', START_ABOVE_FLOOR_LIMIT_MS),
    goal(`CPU per check / upstream's ${inputs.upstreamCpuMsPerCheck} ms (${inputs.upstreamSource})`, inputs.oursCpuMsPerCheck / inputs.upstreamCpuMsPerCheck, 'ratio', CPU_SHARE_OF_UPSTREAM_LIMIT),
  ];
}
