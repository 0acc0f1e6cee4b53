// Instructions per check of a probe command, counted by valgrind's callgrind
// (`npm run bench -- --instructions`).
//
// Why: CPU time on a shared machine moves by more than the few percent worth
// finding, even measured in pairs (bench/paired-cpu.ts). Instructions
// executed in user space do not depend on what else the machine runs; the
// kernel's share of a check is its syscalls, which strace shows equal between
// versions of the sidecar. The count is not free of noise either: V8
// compiles hot functions on the way (under valgrind, for tens of thousands
// of requests) and runs a major garbage collection now and then, and both
// only add. So the command is warmed up first, then measured in chunks of
// requests; the lowest chunk is a steady check (with the young collections
// its allocations cause, which every chunk has), and the median shows how
// much the extras weigh.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLoad } from './load';
import { median } from './proc';
import { Pair, startPair } from './processes';

export interface InstructionFigures {
  /** Instructions per request (user space, all threads) in the chunk with the fewest. */
  readonly lowestChunk: number;
  /** The median chunk's instructions per request. */
  readonly medianChunk: number;
  /** Each chunk's instructions per request, in order. */
  readonly chunks: readonly number[];
  readonly warmUpRequests: number;
  readonly requestsPerChunk: number;
}

/** Under valgrind the sidecar answers a few hundred requests a second; its first 200 can take this long. */
const START_TIMEOUT_MS = 120_000;

/** Throws, saying what to install, when valgrind's callgrind is not on this machine. */
export function requireCallgrind(): void {
  for (const command of ['valgrind', 'callgrind_control']) {
    try {
      execFileSync(command, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`--instructions needs ${command} (Debian: apt-get install valgrind)`);
    }
  }
}

/**
 * Runs `template` (with `{address}` and `{port}`) under callgrind against a
 * fresh test driver, sends `warmUpRequests` on one connection, then counts
 * `chunks` chunks of `requestsPerChunk` requests each (callgrind's counters
 * zeroed before and dumped after each). The command must be a Node.js
 * process or anything valgrind runs; its JIT code is followed
 * (--smc-check=all-non-file). Throws when a request fails or a chunk's
 * counters cannot be zeroed or dumped.
 */
export async function measureInstructions(template: string, warmUpRequests: number, chunks: number, requestsPerChunk: number): Promise<InstructionFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-instructions-'));
  const countsFile = path.join(dir, 'callgrind.out');
  try {
    const pair = await startPair(`valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=${countsFile} ${template}`, { healthyWithinMs: START_TIMEOUT_MS });
    try {
      return await countChunks(pair, dir, warmUpRequests, chunks, requestsPerChunk);
    } finally {
      await pair.stop();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function countChunks(pair: Pair, dir: string, warmUpRequests: number, chunks: number, requestsPerChunk: number): Promise<InstructionFigures> {
  await loadAll(pair.url, warmUpRequests);
  const perRequest: number[] = [];
  for (let chunk = 1; chunk <= chunks; chunk++) {
    // valgrind runs the command in place, so its pid is the one callgrind_control names.
    controlCallgrind(pair.sidecar.pid, '--zero');
    await loadAll(pair.url, requestsPerChunk);
    perRequest.push(dumpInstructions(pair.sidecar.pid, dir) / requestsPerChunk);
  }
  return { lowestChunk: Math.min(...perRequest), medianChunk: median(perRequest), chunks: perRequest, warmUpRequests, requestsPerChunk };
}

async function loadAll(url: string, requests: number): Promise<void> {
  const load = await runLoad(url, 1, { requests });
  if (load.non2xx + load.errors > 0) throw new Error(`${load.non2xx} non-2xx answers and ${load.errors} errors under callgrind`);
}

/**
 * Sends a command to the callgrind of `pid` alone (valgrind runs the command
 * in place, so the pid is the one callgrind_control names; without one it
 * would reach every callgrind on the machine). callgrind_control exits 0 even
 * when no such process is found, so its output is checked for "OK.".
 */
function controlCallgrind(pid: number, command: '--zero' | '--dump'): void {
  const output = execFileSync('callgrind_control', [command, String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (!/\bOK\.\s*$/.test(output)) throw new Error(`callgrind_control ${command} ${pid} did not succeed: ${output.trim()}`);
}

/**
 * Dumps the counters of `pid` and reads the one new dump file in `dir`: its
 * "totals:" line, the instructions (Ir) since the counters were last zeroed.
 * Throws unless exactly one new dump appeared, so a dump asked for by anyone
 * else is never read as a chunk.
 */
function dumpInstructions(pid: number, dir: string): number {
  const before = new Set(fs.readdirSync(dir));
  controlCallgrind(pid, '--dump');
  const added = fs.readdirSync(dir).filter((name) => !before.has(name));
  if (added.length !== 1) throw new Error(`expected one new callgrind dump in ${dir}, found ${added.length}: ${added.join(', ')}`);
  const file = path.join(dir, added[0]);
  const totals = /^totals: (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
  if (!totals) throw new Error(`no "totals:" line in callgrind's dump ${file}`);
  fs.rmSync(file);
  return Number(totals[1]);
}
