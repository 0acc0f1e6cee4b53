// CPU per check of two probe commands, measured in pairs (`npm run bench -- --vs`).
//
// Why pairs: on a shared 2-core machine the CPU a process spends per request
// moves by +-30% between rounds a minute apart (frequency, the load generator
// and the other process competing), more than the difference worth finding.
// Here both commands run side by side, each with its own test driver, and
// take turns: slice i loads one command for `sliceSeconds` on one
// connection, then the other (the order alternates), so both see the
// same moments of the machine. The figure is the ratio of sums (CPU over
// requests, summed over every slice) with a bootstrap interval over slices;
// the drivers, one program measured the same way, give the noise floor.

import { runLoad } from './load';
import { median, readThreadCpuNs } from './proc';

/** One command's driver and sidecar, already answering 200 at `url`. */
export interface PairedSubject {
  readonly name: string;
  readonly url: string;
  readonly sidecarPid: number;
  readonly driverPid: number;
}

/** CPU per check of one side, milliseconds, from the sums over every slice. */
export interface PairedSide {
  readonly sidecarCpuMsPerCheck: number;
  readonly driverCpuMsPerCheck: number;
  readonly requests: number;
}

/** A ratio ours/theirs: of sums, the slices' median and quartiles, and a 95% bootstrap interval of the ratio of sums. */
export interface PairedRatio {
  readonly ofSums: number;
  readonly sliceMedian: number;
  readonly sliceQuartiles: readonly [number, number];
  readonly interval95: readonly [number, number];
}

export interface PairedCpuFigures {
  readonly slices: number;
  readonly sliceSeconds: number;
  readonly ours: PairedSide;
  readonly theirs: PairedSide;
  readonly sidecarRatio: PairedRatio;
  /** The same driver program behind both: how far apart two equal things read here. */
  readonly driverRatio: PairedRatio;
}

/** Requests sent to each side before the slices, so that both are past V8's tiering. */
const WARM_UP_REQUESTS = 5_000;
const BOOTSTRAP_RESAMPLES = 2_000;

interface SliceCpu {
  readonly sidecarNs: number;
  readonly driverNs: number;
  readonly requests: number;
}

async function loadOneSlice(subject: PairedSubject, seconds: number): Promise<SliceCpu> {
  const sidecarBefore = readThreadCpuNs(subject.sidecarPid);
  const driverBefore = readThreadCpuNs(subject.driverPid);
  const load = await runLoad(subject.url, 1, { seconds });
  if (load.non2xx + load.errors > 0) throw new Error(`${subject.name}: ${load.non2xx} non-2xx answers and ${load.errors} errors in a paired CPU slice`);
  return {
    sidecarNs: readThreadCpuNs(subject.sidecarPid) - sidecarBefore,
    driverNs: readThreadCpuNs(subject.driverPid) - driverBefore,
    requests: load.requests,
  };
}

/** A deterministic generator (mulberry32), so a run's interval can be recomputed from its slices. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/**
 * Ratio ours/theirs of CPU per request, each side's CPU (`cpuNs`) and
 * requests summed over every slice first; with the per-slice ratios' median
 * and quartiles, and a percentile bootstrap (slices resampled in pairs, as
 * they were measured) for its 95% interval. Throws on no slices.
 */
export function pairedRatio(ours: readonly SliceCpu[], theirs: readonly SliceCpu[], cpuNs: (slice: SliceCpu) => number): PairedRatio {
  if (ours.length === 0 || ours.length !== theirs.length) throw new Error(`paired slices: ${ours.length} of ours against ${theirs.length} of theirs`);
  const ratioOfSums = (indexes: readonly number[]) => {
    let oursCpu = 0, oursRequests = 0, theirsCpu = 0, theirsRequests = 0;
    for (const i of indexes) {
      oursCpu += cpuNs(ours[i]);
      oursRequests += ours[i].requests;
      theirsCpu += cpuNs(theirs[i]);
      theirsRequests += theirs[i].requests;
    }
    return oursCpu / oursRequests / (theirsCpu / theirsRequests);
  };
  const all = ours.map((_, i) => i);
  const perSlice = all.map((i) => ratioOfSums([i])).sort((a, b) => a - b);
  const random = seededRandom(ours.length);
  const resampled = Array.from({ length: BOOTSTRAP_RESAMPLES }, () => ratioOfSums(all.map(() => Math.floor(random() * all.length)))).sort((a, b) => a - b);
  return {
    ofSums: ratioOfSums(all),
    sliceMedian: median(perSlice),
    sliceQuartiles: [quantile(perSlice, 0.25), quantile(perSlice, 0.75)],
    interval95: [quantile(resampled, 0.025), quantile(resampled, 0.975)],
  };
}

function sideFigures(slices: readonly SliceCpu[]): PairedSide {
  const requests = slices.reduce((sum, s) => sum + s.requests, 0);
  const perCheckMs = (ns: number) => ns / 1e6 / requests;
  return {
    sidecarCpuMsPerCheck: perCheckMs(slices.reduce((sum, s) => sum + s.sidecarNs, 0)),
    driverCpuMsPerCheck: perCheckMs(slices.reduce((sum, s) => sum + s.driverNs, 0)),
    requests,
  };
}

/**
 * Loads `ours` and `theirs` in `slices` alternating turns of `sliceSeconds`
 * each on one connection (every request one Probe), reading each
 * process's CPU time (all threads, nanoseconds) around its turn.
 * Throws when a request fails or a process has gone.
 */
export async function measurePairedCpu(ours: PairedSubject, theirs: PairedSubject, slices: number, sliceSeconds: number): Promise<PairedCpuFigures> {
  for (const subject of [ours, theirs]) await runLoad(subject.url, 1, { requests: WARM_UP_REQUESTS });
  const oursSlices: SliceCpu[] = [];
  const theirsSlices: SliceCpu[] = [];
  for (let i = 0; i < slices; i++) {
    if (i % 2 === 0) {
      oursSlices.push(await loadOneSlice(ours, sliceSeconds));
      theirsSlices.push(await loadOneSlice(theirs, sliceSeconds));
    } else {
      theirsSlices.push(await loadOneSlice(theirs, sliceSeconds));
      oursSlices.push(await loadOneSlice(ours, sliceSeconds));
    }
  }
  return {
    slices,
    sliceSeconds,
    ours: sideFigures(oursSlices),
    theirs: sideFigures(theirsSlices),
    sidecarRatio: pairedRatio(oursSlices, theirsSlices, (s) => s.sidecarNs),
    driverRatio: pairedRatio(oursSlices, theirsSlices, (s) => s.driverNs),
  };
}
