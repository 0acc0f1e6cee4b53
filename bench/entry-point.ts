// `npm run bench:entry-point`: the image's entry point against the one before it, in one
// run, on this machine's platform:
//   sea         /livenessprobe as the image builds it: the release Node.js of .node-version with the
//               bundle and the V8 options injected (scripts/image/sea.ts)
//   node+bundle the ENTRYPOINT before: that same Node.js binary, the V8 options, the bundle
// Both from files this run writes, the same bytes as the image's. Measured:
// - spawn to the first 200 under a 1000m and a 100m CPU quota (bench/quota-starts.ts: a cgroup v1
//   cpu group of the bench's own; the subjects take turns within a start; page cache warm, as in
//   `npm run bench`);
// - RSS idle (after IDLE_SETTLE_MS, metrics not yet scraped) and at the peak (VmHWM after a
//   16-connection load), each start preceded by `echo 3 > /proc/sys/vm/drop_caches`: an executable
//   written moments ago is in the page cache whole and maps more of itself than one read from disk,
//   so both are read from disk as on a node that pulled the image;
// - the bytes each adds to the image: the files, and gzip'd as a layer stores them.
//
//   npm run bench:entry-point -- [--starts 5] [--rounds 5] [--seconds 5] [--json <file>]
//
// Needs root (the cgroup and drop_caches) and npm's registry (the Node.js binary, as `npm run image`).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundleSidecar, SIDECAR_NODE_OPTIONS } from '../scripts/bundle';
import { fetchNodeBinary } from '../scripts/image/node-binary';
import { hostPlatform, platformName } from '../scripts/image/platforms';
import { writeSeaBlob, writeSeaExecutable } from '../scripts/image/sea';
import { runLoad } from './load';
import { median, readProcStats } from './proc';
import { measureQuotaStarts, QuotaSubject } from './quota-starts';
import { startPair } from './processes';

const ROOT = path.resolve(__dirname, '..', '..');
const WORK_DIR = path.join(ROOT, 'dist', 'bench-entry-point');
const SUBJECT_ARGS = '--csi-address={address} --http-endpoint=127.0.0.1:{port}';
/** No throttling on 2 cores, and a small pod's quota. */
const QUOTAS_MILLICORES = [1_000, 100] as const;
/** Idle RSS is read this long after the first 200, as bench/run.ts reads it. */
const IDLE_SETTLE_MS = 3_000;
const DROP_CACHES = '/proc/sys/vm/drop_caches';

const { values: args } = parseArgs({
  options: {
    starts: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    json: { type: 'string' },
  },
});
for (const name of ['starts', 'rounds', 'seconds'] as const) {
  if (!/^[1-9]\d{0,3}$/.test(args[name]!)) {
    process.stderr.write(`bench:entry-point: --${name} ${args[name]}: give a whole number from 1 to 9999\n`);
    process.exit(2);
  }
}

/** Empties the page cache (clean pages only: sync first), so the next start reads its executable from disk. */
function dropCaches(): void {
  execFileSync('sync');
  try {
    fs.writeFileSync(DROP_CACHES, '3');
  } catch (err) {
    throw new Error(`cannot write ${DROP_CACHES}: ${(err as Error).message}; the memory figures need root (an executable in the page cache maps more of itself)`, { cause: err });
  }
}

interface RoundFigures {
  readonly startToFirst200Ms: number;
  readonly idleRssMiB: number;
  readonly peakRssMiB: number;
}

async function measureRound(subject: QuotaSubject): Promise<RoundFigures> {
  dropCaches();
  const pair = await startPair(subject.command);
  try {
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const idleRssMiB = readProcStats(pair.sidecar.pid).rssKiB / 1024;
    const load = await runLoad(pair.url, 16, { seconds: Number(args.seconds) });
    if (load.non2xx + load.errors > 0) throw new Error(`${subject.name}: ${load.non2xx} non-2xx answers and ${load.errors} errors under load`);
    return { startToFirst200Ms: pair.startToFirst200Ms, idleRssMiB, peakRssMiB: readProcStats(pair.sidecar.pid).peakRssKiB / 1024 };
  } finally {
    await pair.stop();
  }
}

async function main(): Promise<void> {
  const platform = hostPlatform();
  if (!platform) throw new Error(`this machine's architecture (${process.arch}) is none the image is built for`);
  fs.rmSync(WORK_DIR, { recursive: true, force: true });
  const bundle = await bundleSidecar(path.join(WORK_DIR, 'bundle'));
  const node = fetchNodeBinary(platform);
  const blob = writeSeaBlob(node, platform, bundle.bundlePath, SIDECAR_NODE_OPTIONS, path.join(WORK_DIR, 'sea-work'));
  const sea = await writeSeaExecutable(node, blob, path.join(WORK_DIR, 'livenessprobe'));
  const subjects: QuotaSubject[] = [
    { name: 'sea', command: `${sea.path} ${SUBJECT_ARGS}` },
    { name: 'node+bundle', command: `${node.binaryPath} ${SIDECAR_NODE_OPTIONS.join(' ')} ${bundle.bundlePath} ${SUBJECT_ARGS}` },
  ];

  const sizes = {
    sea: { files: fs.statSync(sea.path).size, gzipped: gzipSync(fs.readFileSync(sea.path)).length },
    'node+bundle': {
      files: fs.statSync(node.binaryPath).size + fs.statSync(bundle.bundlePath).size,
      gzipped: gzipSync(fs.readFileSync(node.binaryPath)).length + gzipSync(fs.readFileSync(bundle.bundlePath)).length,
    },
  };

  const rounds = new Map<string, RoundFigures[]>(subjects.map((subject) => [subject.name, []]));
  for (let round = 1; round <= Number(args.rounds); round++) {
    for (const subject of subjects) {
      process.stderr.write(`round ${round}/${args.rounds}: ${subject.name}\n`);
      rounds.get(subject.name)!.push(await measureRound(subject));
    }
  }
  process.stderr.write(`starts under ${QUOTAS_MILLICORES.map((q) => `${q}m`).join(' and ')}, ${args.starts} each\n`);
  const quotaStarts = await measureQuotaStarts(subjects, QUOTAS_MILLICORES, Number(args.starts));

  const MiB = (value: number) => `${value.toFixed(1)} MiB`;
  const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  const lines = [
    `entry point, ${platformName(platform)}, node ${node.version}, V8 options ${SIDECAR_NODE_OPTIONS.join(' ')}; medians of ${args.rounds} rounds, ${args.starts} starts per quota; page cache dropped before each round`,
    `| | ${subjects.map((s) => s.name).join(' | ')} |`,
    `|---|${subjects.map(() => '---').join('|')}|`,
    ...QUOTAS_MILLICORES.map((q) => `| spawn to first 200 under ${q}m | ${subjects.map((s) => `${quotaStarts[s.name][q].toFixed(0)} ms`).join(' | ')} |`),
    `| spawn to first 200, no quota | ${subjects.map((s) => `${median(rounds.get(s.name)!.map((r) => r.startToFirst200Ms)).toFixed(0)} ms`).join(' | ')} |`,
    `| idle RSS | ${subjects.map((s) => MiB(median(rounds.get(s.name)!.map((r) => r.idleRssMiB)))).join(' | ')} |`,
    `| peak RSS (16 connections, ${args.seconds} s) | ${subjects.map((s) => MiB(median(rounds.get(s.name)!.map((r) => r.peakRssMiB)))).join(' | ')} |`,
    `| files in the image | ${subjects.map((s) => `${MB(sizes[s.name as keyof typeof sizes].files)} (${MB(sizes[s.name as keyof typeof sizes].gzipped)} gzip'd)`).join(' | ')} |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ platform: platformName(platform), node: node.version, rounds: Object.fromEntries(rounds), quotaStarts, sizes }, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:entry-point failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
