// Time from spawn to the first 200 under CPU quotas: a pod's CPU
// limit is a CFS quota, and on a node's boot every pod starts at once. Each
// subject starts in a cpu cgroup of the benchmark's own (bench/cpu-quota.ts);
// its driver and the load generator run outside it.

import { makeCpuQuotaGroup } from './cpu-quota';
import { median } from './proc';
import { startPair } from './processes';

/** The quotas measured, millicores: no throttling on 2 cores, then what small pods are given. */
export const CPU_QUOTAS_MILLICORES: readonly number[] = [1_000, 200, 100, 50];
/** Under 50m a start takes seconds; a subject that has not answered 200 by then is failed, not waited for. */
const HEALTHY_WITHIN_UNDER_QUOTA_MS = 60_000;

export interface QuotaSubject {
  readonly name: string;
  readonly command: string;
}

/** Median spawn-to-first-200 in ms, per subject name, per quota in millicores. */
export type QuotaStartFigures = Record<string, Record<number, number>>;

/**
 * Starts each subject `starts` times under each quota, the subjects taking
 * turns within a start (so drift in the machine's load falls on all alike),
 * and gives the median time from spawn to the first 200.
 */
export async function measureQuotaStarts(subjects: readonly QuotaSubject[], quotas: readonly number[], starts: number): Promise<QuotaStartFigures> {
  const samples = new Map<string, Map<number, number[]>>(subjects.map((s) => [s.name, new Map(quotas.map((q) => [q, []]))]));
  for (const millicores of quotas) {
    const group = makeCpuQuotaGroup(millicores);
    try {
      for (let start = 1; start <= starts; start++) {
        for (const subject of subjects) {
          process.stderr.write(`start under ${millicores}m (${start}/${starts}): ${subject.name}\n`);
          const pair = await startPair(subject.command, { cgroupProcsFile: group.procsFile, healthyWithinMs: HEALTHY_WITHIN_UNDER_QUOTA_MS });
          samples.get(subject.name)!.get(millicores)!.push(pair.startToFirst200Ms);
          await pair.stop();
        }
      }
    } finally {
      group.remove();
    }
  }
  return Object.fromEntries(subjects.map((s) => [s.name, Object.fromEntries(quotas.map((q) => [q, median(samples.get(s.name)!.get(q)!)]))]));
}
