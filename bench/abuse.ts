// What hostile clients cost a probe command: kubelet-style probes
// answered while attackers hold connections, pipeline without reading, or
// flood complete requests, or keep a request in flight on every connection
// (a slow driver's shared check included); RSS and open files during and after.

import { AttackMode, probeLoop, startAttack } from './attackers';
import { readProcStats } from './proc';

const PROBE_INTERVAL_MS = 200;
/** The kubelet's default timeoutSeconds, unless a scenario sets its own. */
const PROBE_TIMEOUT_MS = 1_000;
const SAMPLE_INTERVAL_MS = 250;
/** How long after the attack RSS and open files are read again. */
const AFTER_ATTACK_MS = 10_000;
const OPEN_WAIT_MS = 20_000;

export interface AbuseFigures {
  /** Probes answered 200 within the time limit, of all sent. */
  readonly probesOk: number;
  readonly probesSent: number;
  readonly probeMaxMs: number;
  /** Attacking connections open when the probes ran (median of samples). */
  readonly attackersOpen: number;
  /** Answers the attackers read per second (flood, repeat and churn modes). */
  readonly attackAnswersPerSecond: number;
  readonly rssBeforeMiB: number;
  /** VmHWM: the peak since the process started (each attack gets a fresh process). */
  readonly rssPeakMiB: number;
  readonly fdsPeak: number;
  readonly rssAfterMiB: number;
  readonly fdsAfter: number;
}

const mib = (kib: number) => kib / 1024;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Attacks `port` with `connections` clients in `mode` and runs kubelet-style
 * probes for `seconds`. Waits for most attackers to be connected first; a
 * probe command that refuses them is measured anyway, after OPEN_WAIT_MS.
 */
export async function measureAbuse(url: string, port: number, pid: number, mode: AttackMode, connections: number, seconds: number, probeTimeoutMs = PROBE_TIMEOUT_MS): Promise<AbuseFigures> {
  const before = readProcStats(pid);
  const attack = startAttack(port, connections, mode);
  let fdsPeak = before.openFds;
  const opens: number[] = [];
  const sampler = setInterval(() => {
    fdsPeak = Math.max(fdsPeak, readProcStats(pid).openFds);
    opens.push(attack.open());
  }, SAMPLE_INTERVAL_MS);
  try {
    await attack.waitUntilOpen(Math.floor(connections * 0.9), OPEN_WAIT_MS).catch(() => undefined);
    opens.length = 0;
    const answersBefore = attack.answers();
    const startedAt = performance.now();
    const results = await probeLoop(url, seconds * 1000, PROBE_INTERVAL_MS, probeTimeoutMs);
    const attackAnswersPerSecond = (attack.answers() - answersBefore) / ((performance.now() - startedAt) / 1000);
    await attack.stop();
    clearInterval(sampler);
    await delay(AFTER_ATTACK_MS);
    const after = readProcStats(pid);
    opens.sort((a, b) => a - b);
    return {
      probesOk: results.filter((r) => r.status === 200).length,
      probesSent: results.length,
      probeMaxMs: Math.max(...results.map((r) => r.latencyMs)),
      attackersOpen: opens[Math.floor(opens.length / 2)] ?? 0,
      attackAnswersPerSecond,
      rssBeforeMiB: mib(before.rssKiB),
      rssPeakMiB: mib(after.peakRssKiB), // VmHWM: the process is fresh for each attack
      fdsPeak,
      rssAfterMiB: mib(after.rssKiB),
      fdsAfter: after.openFds,
    };
  } finally {
    clearInterval(sampler);
    await attack.stop();
  }
}
