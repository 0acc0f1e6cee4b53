// `npm run bench`: speed, CPU and memory of the sidecar against the test CSI
// driver, each a separate process, with a real HTTP load generator (autocannon).
//
//   npm run bench -- [--rounds 3] [--seconds 5] [--flood-seconds 30] [--kills 20]
//                    [--held 5000] [--abuse-seconds 15] [--abuse-only]
//                    [--vs '<command with {address} and {port}>'] [--json bench-results.json]
//                    [--paired-slices 60] [--paired-seconds 1] [--paired-only]
//                    [--instructions] [--instructions-warm-up 20000] [--instructions-chunks 12]
//                    [--quota-starts 3] [--upstream-cpu-ms 1.225] [--vs-is-upstream] [--starts-only]
//                    [--bundle]
//
// Ours is the image's entry point: this machine's platform's /livenessprobe, the single
// executable application with the bundle's V8 code cache (scripts/image/sea.ts); --bundle
// measures `node <the sidecar's V8 options> <the bundle>` instead.
//
// Node's floor is measured in the same run: a bare `net` server
// with the same V8 options (bench/floor-server.ts), beside ours in the rounds,
// the flood, the 5,000 held connections and the starts under CPU quotas of
// 1000m, 200m, 100m and 50m (a cgroup v1 cpu group of the bench's own; the
// bench fails if it cannot make one). A third table judges the resource goals:
// idle RSS above the floor, the peaks, start-up above the floor's at 100m and
// CPU per check against upstream's (1.225 ms as measured, or the --vs
// command's with --vs-is-upstream).
//
// With --vs, the other command is measured alternately with ours in the same
// session and the ratios ours/theirs are printed; CPU per check is compared
// in pairs as well (bench/paired-cpu.ts: both running, alternating slices),
// since the rounds' medians move more than the difference worth finding.
// --paired-only measures that comparison alone. --instructions adds the
// user-space instructions per check of each command, counted by valgrind's
// callgrind (bench/instructions.ts): repeatable whatever else the machine
// does. A second table shows what
// hostile clients cost (bench/abuse.ts): probes answered while --held
// connections are held, while 32 clients pipeline without reading, while
// 256 connections flood complete requests, and while clients keep a request
// in flight on every connection they can hold (repeating on keep-alive
// connections, or churning a new connection per request) against a slow
// (Probe 800 ms) and a fast driver, under a 1,024-file limit and a 200-file
// one. --abuse-only measures that table alone. --starts-only
// measures the starts under CPU quotas alone (ours, the floor and --vs), and
// judges the start-up goal.

import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { AbuseFigures, measureAbuse } from './abuse';
import type { AttackMode } from './attackers';
import { InstructionFigures, measureInstructions, requireCallgrind } from './instructions';
import { runLoad } from './load';
import { measurePairedCpu, PairedCpuFigures, PairedRatio } from './paired-cpu';
import { median, readContextSwitches, readProcStats } from './proc';
import { CPU_QUOTAS_MILLICORES, measureQuotaStarts, QuotaStartFigures } from './quota-starts';
import { judgeFloorGoals, START_ABOVE_FLOOR_LIMIT_MS, START_QUOTA_MILLICORES, UPSTREAM_CPU_MS_PER_CHECK } from './floor-goals';
import { buildBundleCommand, buildSeaCommand, floorCommand, getStatus, Pair, startDriver, startPair, waitForHealthy } from './processes';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'flood-seconds': { type: 'string', default: '30' },
    kills: { type: 'string', default: '20' },
    held: { type: 'string', default: '5000' },
    'abuse-seconds': { type: 'string', default: '15' },
    'abuse-only': { type: 'boolean', default: false },
    'starts-only': { type: 'boolean', default: false },
    bundle: { type: 'boolean', default: false },
    vs: { type: 'string' },
    'paired-slices': { type: 'string', default: '60' },
    'paired-seconds': { type: 'string', default: '1' },
    'paired-only': { type: 'boolean', default: false },
    instructions: { type: 'boolean', default: false },
    'instructions-warm-up': { type: 'string', default: '20000' },
    'instructions-chunks': { type: 'string', default: '12' },
    'quota-starts': { type: 'string', default: '3' },
    'upstream-cpu-ms': { type: 'string', default: String(UPSTREAM_CPU_MS_PER_CHECK) },
    'vs-is-upstream': { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench-results.json' },
  },
});
/** What is wrong with the flags, one line a problem; empty when they can be run. */
function flagProblems(): string[] {
  const problems: string[] = [];
  const wholeNumber = (flag: keyof typeof args, least: number) => {
    const value = Number(args[flag]);
    if (!Number.isInteger(value) || value < least) problems.push(`--${flag} ${String(args[flag])}: give a whole number of at least ${least}`);
  };
  const positive = (flag: keyof typeof args) => {
    const value = Number(args[flag]);
    if (!Number.isFinite(value) || value <= 0) problems.push(`--${flag} ${String(args[flag])}: give a number above 0`);
  };
  for (const flag of ['rounds', 'kills', 'held'] as const) wholeNumber(flag, 1);
  for (const flag of ['seconds', 'flood-seconds', 'abuse-seconds', 'paired-seconds'] as const) positive(flag);

  wholeNumber('instructions-warm-up', 0);
  wholeNumber('instructions-chunks', 1);
  wholeNumber('quota-starts', 1);
  positive('upstream-cpu-ms');
  if (args['vs-is-upstream'] && !args.vs) problems.push('--vs-is-upstream says the --vs command is upstream: give it with --vs');
  wholeNumber('paired-slices', 2);
  if (Number(args['paired-slices']) % 2 === 1) problems.push(`--paired-slices ${args['paired-slices']}: give an even number, so that each command goes first as often`);
  if ([args['paired-only'], args['abuse-only'], args['starts-only']].filter(Boolean).length > 1) problems.push('--paired-only, --abuse-only and --starts-only: give one of them');
  if (args['paired-only'] && !args.vs) problems.push('--paired-only compares with another command: give it with --vs');
  return problems;
}

const problems = flagProblems();
if (problems.length > 0) {
  for (const problem of problems) process.stderr.write(`bench: ${problem}\n`);
  process.exit(2);
}

const ROUNDS = Number(args.rounds);
const LOAD_SECONDS = Number(args.seconds);
const FLOOD_SECONDS = Number(args['flood-seconds']);
const KILLS = Number(args.kills);
const HELD_CONNECTIONS = Number(args.held);
const ABUSE_SECONDS = Number(args['abuse-seconds']);
const PAIRED_SLICES = Number(args['paired-slices']);
const PAIRED_SECONDS = Number(args['paired-seconds']);
const INSTRUCTIONS_WARM_UP_REQUESTS = Number(args['instructions-warm-up']);
const INSTRUCTIONS_CHUNKS = Number(args['instructions-chunks']);
const QUOTA_STARTS = Number(args['quota-starts']);
/** Requests per counted chunk: a few seconds under callgrind, many young collections in each. */
const INSTRUCTIONS_CHUNK_REQUESTS = 1_000;
const IDLE_SETTLE_MS = 2_000;
/** V8 runs memory-reducing GCs for the first seconds after start-up; idle cost is read after them. */
const QUIET_SETTLE_MS = 30_000;
const QUIET_SPAN_MS = 20_000;

interface AbuseScenario {
  readonly label: string;
  readonly mode: AttackMode;
  readonly connections: number;
  /** Test-driver flags (`--probe-delay-ms`). */
  readonly driverArgs?: readonly string[];
  /** The subject runs under `ulimit -n` this. */
  readonly openFileLimit?: number;
  /** The kubelet probe's limit; the kubelet's default timeoutSeconds unless set. */
  readonly probeTimeoutMs?: number;
}

/** A driver whose Probe takes this long keeps every request waiting on the shared check most of the time. */
const SLOW_PROBE_MS = 800;
/** Probes with a 2 s limit (timeoutSeconds: 2), as a slow driver needs one. */
const BUSY_PROBE_TIMEOUT_MS = 2_000;

/** As many busy attackers as the open-file limit: more than the budget (limit - 64) and its overdraft can hold. */
const BUSY_SCENARIOS: readonly AbuseScenario[] = [1_024, 200].flatMap((limit) =>
  (['repeat', 'churn'] as const).flatMap((mode) =>
    [SLOW_PROBE_MS, 0].map((probeMs) => ({
      label: `${limit.toLocaleString('en-US')} ${mode === 'repeat' ? 'repeating (keep-alive)' : 'churning (Connection: close)'}, ulimit -n ${limit}, Probe ${probeMs} ms`,
      mode,
      connections: limit,
      driverArgs: ['--probe-delay-ms', String(probeMs)],
      openFileLimit: limit,
      probeTimeoutMs: BUSY_PROBE_TIMEOUT_MS,
    })),
  ),
);

const ABUSE_SCENARIOS: readonly AbuseScenario[] = [
  { label: `${HELD_CONNECTIONS} held (idle, half head, slow body)`, mode: 'mixed', connections: HELD_CONNECTIONS },
  { label: '32 pipelining, never reading', mode: 'pipeline', connections: 32 },
  { label: '256 flooding (/healthz, ?verbose)', mode: 'flood', connections: 256 },
  ...BUSY_SCENARIOS,
];

interface Subject {
  readonly name: string;
  readonly command: string;
  /** Node's floor: measured where a figure means something for a server that calls no driver (no kills, no idle cost, only the held-connections attack). */
  readonly floor?: boolean;
}

/** The bare `net` server the sidecar is read against. */
const FLOOR_NAME = 'floor';

interface RoundFigures {
  startToFirst200Ms: number;
  idleRssMiB: number;
  /** VmHWM after the one-connection load (the process is fresh each round). */
  peakRssOneMiB: number;
  rps1: number;
  p50Ms1: number;
  p99Ms1: number;
  rps16: number;
  p50Ms16: number;
  p99Ms16: number;
  sidecarCpuMsPerCheck: number;
  driverCpuMsPerCheck: number;
}

interface SubjectFigures extends RoundFigures {
  peakRssFloodMiB: number;
  /** VmHWM with HELD_CONNECTIONS attacking connections held (the abuse table's first attack). */
  peakRssHeldMiB: number;
  killToFailureMs: number;
  idleCpuMs: number;
  idleContextSwitches: number;
  abuse: Record<string, AbuseFigures>;
}

const mib = (kib: number) => kib / 1024;


async function measureRound(subject: Subject): Promise<RoundFigures> {
  const pair = await startPair(subject.command);
  try {
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const idleRssMiB = mib(readProcStats(pair.sidecar.pid).rssKiB);

    // One connection: every request is one Probe, so CPU per request is CPU per check.
    const sidecarBefore = readProcStats(pair.sidecar.pid).cpuMs;
    const driverBefore = readProcStats(pair.driver.pid).cpuMs;
    const single = await runLoad(pair.url, 1, { seconds: LOAD_SECONDS });
    const afterSingle = readProcStats(pair.sidecar.pid);
    const sidecarCpuMsPerCheck = (afterSingle.cpuMs - sidecarBefore) / single.requests;
    const driverCpuMsPerCheck = (readProcStats(pair.driver.pid).cpuMs - driverBefore) / single.requests;

    const sixteen = await runLoad(pair.url, 16, { seconds: LOAD_SECONDS });
    if (single.non2xx + sixteen.non2xx + single.errors + sixteen.errors > 0) {
      throw new Error(`${subject.name}: failed requests under load (non-2xx ${single.non2xx + sixteen.non2xx}, errors ${single.errors + sixteen.errors})`);
    }
    return {
      startToFirst200Ms: pair.startToFirst200Ms,
      idleRssMiB,
      peakRssOneMiB: mib(afterSingle.peakRssKiB),
      rps1: single.requestsPerSecond,
      p50Ms1: single.p50Ms,
      p99Ms1: single.p99Ms,
      rps16: sixteen.requestsPerSecond,
      p50Ms16: sixteen.p50Ms,
      p99Ms16: sixteen.p99Ms,
      sidecarCpuMsPerCheck,
      driverCpuMsPerCheck,
    };
  } finally {
    await pair.stop();
  }
}

/** Peak RSS (VmHWM) after a flood of 16 connections. */
async function measureFlood(subject: Subject): Promise<number> {
  const pair = await startPair(subject.command);
  try {
    await runLoad(pair.url, 16, { seconds: FLOOD_SECONDS });
    return mib(readProcStats(pair.sidecar.pid).peakRssKiB);
  } finally {
    await pair.stop();
  }
}

/** CPU time and context switches (every thread) over QUIET_SPAN_MS of idling, metrics served, nothing scraping. */
async function measureIdleCost(subject: Subject): Promise<{ idleCpuMs: number; idleContextSwitches: number }> {
  const pair = await startPair(subject.command);
  try {
    await new Promise((resolve) => setTimeout(resolve, QUIET_SETTLE_MS));
    const cpuBefore = readProcStats(pair.sidecar.pid).cpuMs;
    const switchesBefore = readContextSwitches(pair.sidecar.pid);
    await new Promise((resolve) => setTimeout(resolve, QUIET_SPAN_MS));
    return {
      idleCpuMs: readProcStats(pair.sidecar.pid).cpuMs - cpuBefore,
      idleContextSwitches: readContextSwitches(pair.sidecar.pid) - switchesBefore,
    };
  } finally {
    await pair.stop();
  }
}

/** Median time from SIGKILL of the driver to the first failing /healthz answer, over KILLS kills. */
async function measureKillDetection(subject: Subject): Promise<number> {
  const pair = await startPair(subject.command);
  const samples: number[] = [];
  try {
    for (let i = 0; i < KILLS; i++) {
      await waitForHealthy(pair.url, 30_000);
      let killedAt = 0;
      let failedAt = 0;
      const poll = (async () => {
        for (;;) {
          const status = await getStatus(pair.url);
          if (killedAt > 0 && status !== 200) {
            failedAt = performance.now();
            return;
          }
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 50));
      killedAt = performance.now();
      await pair.driver.stop('SIGKILL');
      await poll;
      samples.push(failedAt - killedAt);
      pair.driver = await startDriver(pair.socketPath);
    }
    return median(samples);
  } finally {
    await pair.stop();
  }
}

async function measureAbuseScenarios(subject: Subject): Promise<Record<string, AbuseFigures>> {
  const figures: Record<string, AbuseFigures> = {};
  // The floor answers anything and knows no budget: only what holding connections costs Node is worth reading.
  for (const scenario of subject.floor ? ABUSE_SCENARIOS.slice(0, 1) : ABUSE_SCENARIOS) {
    process.stderr.write(`abuse: ${scenario.label}: ${subject.name}\n`);
    const pair = await startPair(subject.command, scenario);
    try {
      await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
      const port = Number(new URL(pair.url).port);
      figures[scenario.label] = await measureAbuse(pair.url, port, pair.sidecar.pid, scenario.mode, scenario.connections, ABUSE_SECONDS, scenario.probeTimeoutMs);
    } finally {
      await pair.stop();
    }
  }
  return figures;
}

/** Both subjects up side by side, each with its own driver, compared in alternating slices. */
async function measurePaired(ours: Subject, theirs: Subject): Promise<PairedCpuFigures> {
  process.stderr.write(`paired CPU per check: ${PAIRED_SLICES} slices of ${PAIRED_SECONDS} s each\n`);
  const oursPair = await startPair(ours.command);
  try {
    const theirsPair = await startPair(theirs.command);
    try {
      const side = (name: string, pair: Pair) => ({ name, url: pair.url, sidecarPid: pair.sidecar.pid, driverPid: pair.driver.pid });
      return await measurePairedCpu(side(ours.name, oursPair), side(theirs.name, theirsPair), PAIRED_SLICES, PAIRED_SECONDS);
    } finally {
      await theirsPair.stop();
    }
  } finally {
    await oursPair.stop();
  }
}

function medianOf<T>(rows: readonly T[], key: keyof T): number {
  return median(rows.map((row) => row[key] as number));
}

async function measureAll(subjects: readonly Subject[]): Promise<{ figures: Map<string, SubjectFigures>; quotaStarts?: QuotaStartFigures }> {
  if (args['abuse-only']) {
    const figures = new Map<string, SubjectFigures>();
    for (const subject of subjects) figures.set(subject.name, { abuse: await measureAbuseScenarios(subject) } as SubjectFigures);
    return { figures };
  }
  const rounds = new Map<string, RoundFigures[]>(subjects.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const subject of subjects) {
      process.stderr.write(`round ${round}/${ROUNDS}: ${subject.name}\n`);
      rounds.get(subject.name)!.push(await measureRound(subject));
    }
  }
  const figures = new Map<string, SubjectFigures>();
  for (const subject of subjects) {
    process.stderr.write(`flood ${FLOOD_SECONDS}s and ${KILLS} kills: ${subject.name}\n`);
    const rows = rounds.get(subject.name)!;
    const keys = Object.keys(rows[0]) as (keyof RoundFigures)[];
    const medians = Object.fromEntries(keys.map((key) => [key, medianOf(rows, key)])) as unknown as RoundFigures;
    const peakRssFloodMiB = await measureFlood(subject);
    // The floor never fails a check (it calls no driver), and its idle cost is not in question.
    const killToFailureMs = subject.floor ? NaN : await measureKillDetection(subject);
    const idleCost = subject.floor ? { idleCpuMs: NaN, idleContextSwitches: NaN } : await measureIdleCost(subject);
    const abuse = await measureAbuseScenarios(subject);
    figures.set(subject.name, { ...medians, peakRssFloodMiB, peakRssHeldMiB: abuse[ABUSE_SCENARIOS[0].label].rssPeakMiB, killToFailureMs, ...idleCost, abuse });
  }
  process.stderr.write(`starts under CPU quotas (${CPU_QUOTAS_MILLICORES.map((q) => `${q}m`).join(', ')}), ${QUOTA_STARTS} each\n`);
  const quotaStarts = await measureQuotaStarts(subjects, CPU_QUOTAS_MILLICORES, QUOTA_STARTS);
  return { figures, quotaStarts };
}

interface Target {
  readonly key: keyof SubjectFigures;
  readonly label: string;
  readonly unit: string;
  readonly limit?: number;
  /** true: figure must be at most the limit; false: at least. */
  readonly atMost?: boolean;
}

type ScalarKey = Exclude<keyof SubjectFigures, 'abuse'>;

const TARGETS: readonly (Target & { readonly key: ScalarKey })[] = [
  { key: 'sidecarCpuMsPerCheck', label: 'sidecar CPU per check', unit: 'ms', limit: 0.2, atMost: true },
  { key: 'driverCpuMsPerCheck', label: 'driver CPU per check', unit: 'ms' },
  { key: 'rps1', label: 'requests/s, 1 connection', unit: '/s' },
  { key: 'p50Ms1', label: 'p50, 1 connection', unit: 'ms' },
  { key: 'p99Ms1', label: 'p99, 1 connection', unit: 'ms' },
  { key: 'rps16', label: 'requests/s, 16 connections', unit: '/s', limit: 30_000, atMost: false },
  { key: 'p50Ms16', label: 'p50, 16 connections', unit: 'ms' },
  { key: 'p99Ms16', label: 'p99, 16 connections', unit: 'ms', limit: 3, atMost: true },
  { key: 'idleRssMiB', label: 'RSS idle after start-up', unit: 'MiB', limit: 47.7, atMost: true },
  { key: 'peakRssOneMiB', label: `RSS peak, ${LOAD_SECONDS}s 1-connection load`, unit: 'MiB' },
  { key: 'peakRssFloodMiB', label: `RSS peak, ${FLOOD_SECONDS}s 16-connection flood`, unit: 'MiB', limit: 76.3, atMost: true },
  { key: 'peakRssHeldMiB', label: `RSS peak, ${HELD_CONNECTIONS.toLocaleString('en-US')} held connections`, unit: 'MiB' },
  { key: 'killToFailureMs', label: 'driver SIGKILL -> failing answer', unit: 'ms', limit: 50, atMost: true },
  { key: 'startToFirst200Ms', label: 'spawn -> first 200', unit: 'ms' },
  { key: 'idleCpuMs', label: `CPU over ${QUIET_SPAN_MS / 1000} idle s`, unit: 'ms', limit: 40, atMost: true },
  { key: 'idleContextSwitches', label: `context switches over ${QUIET_SPAN_MS / 1000} idle s`, unit: 'count', limit: 200, atMost: true },
];

function formatFigure(value: number): string {
  if (Number.isNaN(value)) return '';
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(3);
}

function printMarkdownTable(header: string[], rows: string[][]): void {
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: string[]) => `| ${row.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  process.stdout.write([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n');
}

/** One row per attack and subject: probes answered, then memory and open files during and after. */
function printAbuseTable(subjects: readonly Subject[], figures: Map<string, SubjectFigures>): void {
  const header = ['attack', 'subject', 'probes 200', 'slowest probe', 'attackers open', 'answers/s', 'RSS before', 'RSS peak', 'fds peak', 'RSS 10 s after', 'fds 10 s after'];
  const rows: string[][] = [];
  for (const scenario of ABUSE_SCENARIOS) {
    for (const subject of subjects) {
      const f = figures.get(subject.name)!.abuse[scenario.label];
      if (f === undefined) continue; // the floor meets only the held connections
      rows.push([
        scenario.label,
        subject.name,
        `${f.probesOk}/${f.probesSent}`,
        `${formatFigure(f.probeMaxMs)} ms`,
        String(f.attackersOpen),
        ['flood', 'repeat', 'churn'].includes(scenario.mode) ? formatFigure(f.attackAnswersPerSecond) : '',
        `${f.rssBeforeMiB.toFixed(1)} MiB`,
        `${f.rssPeakMiB.toFixed(1)} MiB`,
        String(f.fdsPeak),
        `${f.rssAfterMiB.toFixed(1)} MiB`,
        String(f.fdsAfter),
      ]);
    }
  }
  printMarkdownTable(header, rows);
}

function printInstructionsTable(subjects: readonly Subject[], figures: ReadonlyMap<string, InstructionFigures>): void {
  const first = figures.get(subjects[0].name)!;
  process.stdout.write(`Instructions per check (callgrind, user space, all threads): ${first.chunks.length} chunks of ${first.requestsPerChunk} requests on 1 connection, after ${first.warmUpRequests} to warm up\n\n`);
  const count = (value: number) => Math.round(value).toLocaleString('en-US');
  const rows = subjects.map((subject) => {
    const f = figures.get(subject.name)!;
    return [subject.name, count(f.lowestChunk), count(f.medianChunk), f.chunks.map((c) => Math.round(c / 1000)).join(' ')];
  });
  if (subjects.length > 1) {
    const [ours, theirs] = subjects.map((subject) => figures.get(subject.name)!);
    rows.push(['ours/theirs', (ours.lowestChunk / theirs.lowestChunk).toFixed(3), (ours.medianChunk / theirs.medianChunk).toFixed(3), '']);
  }
  printMarkdownTable(['subject', 'lowest chunk', 'median chunk', 'each chunk (thousands per check)'], rows);
}

function printPairedTable(figures: PairedCpuFigures): void {
  const ratio = (r: PairedRatio) => [r.ofSums.toFixed(3), `${r.interval95[0].toFixed(3)}-${r.interval95[1].toFixed(3)}`, `${r.sliceMedian.toFixed(3)} (${r.sliceQuartiles[0].toFixed(2)}-${r.sliceQuartiles[1].toFixed(2)})`];
  process.stdout.write(`CPU per check in pairs: both running, ${figures.slices} alternating slices of ${figures.sliceSeconds} s on 1 connection each\n\n`);
  printMarkdownTable(
    ['process', 'ours (ms)', 'theirs (ms)', 'ours/theirs, ratio of sums', '95% interval (bootstrap)', 'slice ratios: median (quartiles)'],
    [
      ['sidecar', figures.ours.sidecarCpuMsPerCheck.toFixed(4), figures.theirs.sidecarCpuMsPerCheck.toFixed(4), ...ratio(figures.sidecarRatio)],
      ['driver (one program for both: the noise floor when both send the same calls)', figures.ours.driverCpuMsPerCheck.toFixed(4), figures.theirs.driverCpuMsPerCheck.toFixed(4), ...ratio(figures.driverRatio)],
    ],
  );
}

/** Ours, the floor (when measured) and theirs (with --vs), each a column; the ratio is ours against theirs. */
function printTable(subjects: readonly Subject[], figures: Map<string, SubjectFigures>): void {
  const theirs = subjects.find((s) => s.name === 'theirs');
  const header = ['figure', ...subjects.map((s) => s.name), ...(theirs ? ['ours/theirs'] : []), 'target', 'met'];
  const rows = TARGETS.map((target) => {
    const values = subjects.map((s) => figures.get(s.name)![target.key]);
    const ours = values[0];
    const met = target.limit === undefined ? '' : (target.atMost ? ours <= target.limit : ours >= target.limit) ? 'yes' : 'NO';
    return [
      `${target.label} (${target.unit})`,
      ...values.map(formatFigure),
      ...(theirs ? [(ours / figures.get(theirs.name)![target.key]).toFixed(2)] : []),
      target.limit === undefined ? '' : `${target.atMost ? '<=' : '>='} ${formatFigure(target.limit)}`,
      met,
    ];
  });
  printMarkdownTable(header, rows);
}

/** Spawn to first 200 under each CPU quota, a column a subject. */
function printQuotaStartTable(subjects: readonly Subject[], quotaStarts: QuotaStartFigures): void {
  process.stdout.write(`Spawn -> first 200 under a CPU quota (cgroup v1 CFS, 100 ms period), median of ${QUOTA_STARTS} starts\n\n`);
  const rows = CPU_QUOTAS_MILLICORES.map((q) => [`${q}m`, ...subjects.map((s) => `${formatFigure(quotaStarts[s.name][q])} ms`)]);
  printMarkdownTable(['CPU quota', ...subjects.map((s) => s.name)], rows);
}

/** The resource goals for ours, against the floor and upstream's CPU per check. */
function printFloorGoals(subjects: readonly Subject[], figures: Map<string, SubjectFigures>, quotaStarts: QuotaStartFigures): void {
  const ours = figures.get('ours')!;
  const floor = figures.get(FLOOR_NAME)!;
  const theirs = args['vs-is-upstream'] ? figures.get('theirs') : undefined;
  const goals = judgeFloorGoals({
    oursIdleRssMiB: ours.idleRssMiB,
    floorIdleRssMiB: floor.idleRssMiB,
    oursFloodPeakMiB: ours.peakRssFloodMiB,
    oursHeldPeakMiB: ours.peakRssHeldMiB,
    heldConnections: HELD_CONNECTIONS,
    oursStartMsAtQuota: quotaStarts.ours[START_QUOTA_MILLICORES],
    floorStartMsAtQuota: quotaStarts[FLOOR_NAME][START_QUOTA_MILLICORES],
    oursCpuMsPerCheck: ours.sidecarCpuMsPerCheck,
    upstreamCpuMsPerCheck: theirs ? theirs.sidecarCpuMsPerCheck : Number(args['upstream-cpu-ms']),
    upstreamSource: theirs ? '--vs, measured' : args['upstream-cpu-ms'] === String(UPSTREAM_CPU_MS_PER_CHECK) ? "measured earlier, docs/performance.md" : '--upstream-cpu-ms',
  });
  process.stdout.write(`Resource goals for ours (the floor: ${subjects.find((s) => s.floor)!.name}, a bare node:net server with ours' V8 options)\n\n`);
  printMarkdownTable(
    ['goal', 'figure', 'limit', 'met'],
    goals.map((g) => [g.label, `${g.unit === 'ratio' ? g.figure.toFixed(3) : formatFigure(g.figure)} ${g.unit === 'ratio' ? '' : g.unit}`.trim(), `<= ${g.limit} ${g.unit === 'ratio' ? '' : g.unit}`.trim(), g.met ? 'yes' : 'NO']),
  );
}

/** --starts-only: spawn to first 200 under each CPU quota, and the start-up goal against the floor. */
async function measureStartsOnly(subjects: readonly Subject[]): Promise<void> {
  const measured = [subjects[0], { name: FLOOR_NAME, command: floorCommand(), floor: true }, ...subjects.slice(1)];
  process.stderr.write(`starts under CPU quotas (${CPU_QUOTAS_MILLICORES.map((q) => `${q}m`).join(', ')}), ${QUOTA_STARTS} each\n`);
  const quotaStarts = await measureQuotaStarts(measured, CPU_QUOTAS_MILLICORES, QUOTA_STARTS);
  printQuotaStartTable(measured, quotaStarts);
  const aboveFloorMs = quotaStarts.ours[START_QUOTA_MILLICORES] - quotaStarts[FLOOR_NAME][START_QUOTA_MILLICORES];
  const met = aboveFloorMs <= START_ABOVE_FLOOR_LIMIT_MS ? 'met' : 'NOT met';
  process.stdout.write(`\nspawn -> first 200 at ${START_QUOTA_MILLICORES}m, ours above the floor: ${formatFigure(aboveFloorMs)} ms (goal <= ${START_ABOVE_FLOOR_LIMIT_MS} ms: ${met})\n`);
  const report = { date: new Date().toISOString(), machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version }, settings: { startsOnly: true, quotaStarts: QUOTA_STARTS }, subjects: measured, quotaStarts };
  fs.writeFileSync(args.json!, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nwrote ${args.json}\n`);
}

async function main(): Promise<void> {
  // Ours is the image's /livenessprobe (or, with --bundle, node and the bundle it carries).
  const subjects: Subject[] = [{ name: 'ours', command: args.bundle ? await buildBundleCommand() : await buildSeaCommand() }];
  if (args.vs) subjects.push({ name: 'theirs', command: args.vs });
  if (args['starts-only']) return measureStartsOnly(subjects);
  if (args.instructions) requireCallgrind();
  const paired = args.vs && !args['abuse-only'] ? await measurePaired(subjects[0], subjects[1]) : undefined;
  const instructions = new Map<string, InstructionFigures>();
  if (args.instructions) {
    for (const subject of subjects) {
      process.stderr.write(`instructions under callgrind (${INSTRUCTIONS_WARM_UP_REQUESTS} requests to warm up, then ${INSTRUCTIONS_CHUNKS} x ${INSTRUCTIONS_CHUNK_REQUESTS}): ${subject.name}\n`);
      instructions.set(subject.name, await measureInstructions(subject.command, INSTRUCTIONS_WARM_UP_REQUESTS, INSTRUCTIONS_CHUNKS, INSTRUCTIONS_CHUNK_REQUESTS));
    }
  }
  // Node's floor goes beside ours (before theirs) wherever the full set of figures is measured.
  const measured = args['abuse-only'] || args['paired-only'] ? subjects : [subjects[0], { name: FLOOR_NAME, command: floorCommand(), floor: true }, ...subjects.slice(1)];
  const { figures, quotaStarts } = args['paired-only'] ? { figures: new Map<string, SubjectFigures>(), quotaStarts: undefined } : await measureAll(measured);
  if (!args['abuse-only'] && !args['paired-only']) {
    printTable(measured, figures);
    process.stdout.write('\n');
  }
  if (quotaStarts) {
    printQuotaStartTable(measured, quotaStarts);
    process.stdout.write('\n');
    printFloorGoals(measured, figures, quotaStarts);
    process.stdout.write('\n');
  }
  if (paired) {
    printPairedTable(paired);
    process.stdout.write('\n');
  }
  if (args.instructions) {
    printInstructionsTable(subjects, instructions);
    process.stdout.write('\n');
  }
  if (!args['paired-only']) printAbuseTable(measured, figures);
  const report = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
    settings: { abuseOnly: args['abuse-only'], pairedOnly: args['paired-only'], pairedSlices: PAIRED_SLICES, pairedSeconds: PAIRED_SECONDS, instructions: args.instructions, instructionsWarmUp: INSTRUCTIONS_WARM_UP_REQUESTS, instructionsChunks: INSTRUCTIONS_CHUNKS, rounds: ROUNDS, loadSeconds: LOAD_SECONDS, floodSeconds: FLOOD_SECONDS, kills: KILLS, held: HELD_CONNECTIONS, abuseSeconds: ABUSE_SECONDS, quotaStarts: QUOTA_STARTS, upstreamCpuMs: Number(args['upstream-cpu-ms']), vsIsUpstream: args['vs-is-upstream'] },
    subjects: measured.map((s) => ({ ...s, figures: figures.get(s.name) })),
    ...(quotaStarts ? { quotaStarts } : {}),
    ...(paired ? { pairedCpu: paired } : {}),
    ...(args.instructions ? { instructions: Object.fromEntries(instructions) } : {}),
  };
  fs.writeFileSync(args.json!, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nwrote ${args.json}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
