// The processes a benchmark runs: the test CSI driver and a liveness-probe
// command (ours, or any other given with {address} and {port} placeholders).

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleSidecar, SIDECAR_NODE_OPTIONS } from '../scripts/bundle';
import { fetchNodeBinary } from '../scripts/image/node-binary';
import { hostPlatform } from '../scripts/image/platforms';
import { writeSeaBlob, writeSeaExecutable } from '../scripts/image/sea';
import { killAndWait, watchExit } from './child-exit';
import { DRIVER_SCRIPT } from '../scripts/test-driver-path';

const ROOT = path.resolve(__dirname, '..', '..');
const OUR_NODE_OPTIONS = SIDECAR_NODE_OPTIONS.join(' ');
const SUBJECT_ARGS = '--csi-address={address} --http-endpoint=127.0.0.1:{port}';

/**
 * Builds the single-file bundle into `outDir` and returns the command that
 * runs it as the container image does (same V8 options): what ships is what
 * is measured.
 */
export async function buildBundleCommand(outDir = path.join(ROOT, 'dist', 'bundle')): Promise<string> {
  const { bundlePath: bundle } = await bundleSidecar(outDir);
  return `${process.execPath} ${OUR_NODE_OPTIONS} ${bundle} ${SUBJECT_ARGS}`;
}

/**
 * Builds the bundle into `outDir` and this machine's platform's /livenessprobe from it (the image's
 * single executable application: the bundle, its V8 code cache and the V8 options,
 * scripts/image/sea.ts), and returns the command that runs it: the image's entry point, measured.
 * Throws when the machine has no image platform or a build step fails.
 */
export async function buildSeaCommand(outDir = path.join(ROOT, 'dist', 'bundle')): Promise<string> {
  const platform = hostPlatform();
  if (!platform) throw new Error(`this machine's architecture (${process.arch}) is none the image is built for: run the bench with --bundle to measure node and the bundle`);
  const { bundlePath } = await bundleSidecar(outDir);
  const node = fetchNodeBinary(platform);
  const blob = writeSeaBlob(node, platform, bundlePath, SIDECAR_NODE_OPTIONS, path.join(outDir, 'sea-work'));
  const sea = await writeSeaExecutable(node, blob, path.join(outDir, 'livenessprobe'));
  return `${sea.path} ${SUBJECT_ARGS}`;
}

export interface Running {
  readonly child: ChildProcess;
  readonly pid: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function track(child: ChildProcess): Running {
  const exited = watchExit(child);
  return {
    child,
    pid: child.pid!,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      await killAndWait(child, exited, signal);
    },
  };
}

/** Starts the test driver quietly on `socketPath`; resolves once it listens. */
export async function startDriver(socketPath: string, extraArgs: readonly string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [DRIVER_SCRIPT, '--socket', socketPath, '--quiet', ...extraArgs], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`test driver exited with ${code} before listening`)));
  });
  return track(child);
}

/**
 * Node's floor (bench/floor-server.ts) as a probe command: a bare `net` server
 * run with the sidecar's V8 options, so the sidecar's figures can be read above it.
 */
export function floorCommand(): string {
  return `${process.execPath} ${OUR_NODE_OPTIONS} ${path.join(__dirname, 'floor-server.js')} ${SUBJECT_ARGS}`;
}

/** How a subject is started besides its command. */
export interface SubjectLimits {
  /** The subject runs under `ulimit -n` this. */
  readonly openFileLimit?: number;
  /** A cgroup's `cgroup.procs` the subject joins before it execs (bench/cpu-quota.ts). */
  readonly cgroupProcsFile?: string;
}

/**
 * Starts a probe command; `{address}` and `{port}` in the template are filled in. Its output is discarded.
 * With limits, under a shell that first joins the cgroup and lowers its open-file limit (`ulimit -n`, soft and
 * hard), then execs it: the command runs under them from its first instruction.
 */
export function startSubject(template: string, socketPath: string, port: number, { openFileLimit, cgroupProcsFile }: SubjectLimits = {}): Running {
  const words = template.replace(/\{address\}/g, socketPath).replace(/\{port\}/g, String(port)).split(/\s+/).filter(Boolean);
  const steps = [
    ...(cgroupProcsFile === undefined ? [] : [`echo $$ > '${cgroupProcsFile}'`]),
    ...(openFileLimit === undefined ? [] : [`ulimit -n ${openFileLimit}`]),
  ];
  const [executable, args] = steps.length === 0 ? [words[0], words.slice(1)] : ['/bin/sh', ['-c', `${steps.join(' && ')} && exec "$0" "$@"`, ...words]];
  const child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  return track(child);
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** GET on a kept-alive connection; resolves with the status, or 0 when the connection failed. */
export function getStatus(url: string, agent: http.Agent = keepAlive): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', () => resolve(0));
  });
}

/** Polls until `url` answers 200; resolves with the milliseconds it took. */
export async function waitForHealthy(url: string, timeoutMs: number): Promise<number> {
  const startedAt = performance.now();
  const agent = new http.Agent({ keepAlive: false });
  for (;;) {
    if ((await getStatus(url, agent)) === 200) return performance.now() - startedAt;
    if (performance.now() - startedAt > timeoutMs) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A test driver and a probe command answering for it. */
export interface Pair {
  readonly socketPath: string;
  /** Replaced when a measurement kills and restarts the driver. */
  driver: Running;
  readonly sidecar: Running;
  readonly url: string;
  readonly startToFirst200Ms: number;
  /** Kills both and removes their directory. */
  stop(): Promise<void>;
}

/**
 * Starts the test driver (with `driverArgs`) on a fresh socket and `template`
 * on a free port (see startSubject; the driver runs under none of its limits),
 * and resolves once /healthz answers 200.
 * Throws when it has not within `healthyWithinMs`, both processes stopped.
 */
export async function startPair(template: string, { driverArgs = [], openFileLimit, cgroupProcsFile, healthyWithinMs = 30_000 }: SubjectLimits & { driverArgs?: readonly string[]; healthyWithinMs?: number } = {}): Promise<Pair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-bench-'));
  const socketPath = path.join(dir, 'csi.sock');
  const driver = await startDriver(socketPath, driverArgs);
  const port = await freePort();
  const spawnedAt = performance.now();
  const sidecar = startSubject(template, socketPath, port, { openFileLimit, cgroupProcsFile });
  const url = `http://127.0.0.1:${port}/healthz`;
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    await waitForHealthy(url, healthyWithinMs);
  } catch (err) {
    await sidecar.stop();
    await driver.stop();
    removeDir();
    throw err;
  }
  const pair: Pair = {
    socketPath,
    driver,
    sidecar,
    url,
    startToFirst200Ms: performance.now() - spawnedAt,
    async stop() {
      await pair.sidecar.stop();
      await pair.driver.stop();
      removeDir();
    },
  };
  return pair;
}
