// Runs the real sidecar (dist/src/main.js) as a process and talks to it over real HTTP.

import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { ChildExit, killAndWait, watchExit } from '../../bench/child-exit';
import { SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { httpRequest, HttpResult } from './http';
import { LineCollector } from './lines';

export const SIDECAR_MAIN = path.resolve(__dirname, '..', '..', 'src', 'main.js');

/** How to start the sidecar: an executable and the arguments before the sidecar's own flags. */
export interface SidecarCommand {
  readonly executable: string;
  readonly leadingArgs: readonly string[];
  /** Environment variables added to the test's own. */
  readonly env?: Readonly<Record<string, string>>;
  /** User and group to run as (the test runs as root); supplementary groups are then dropped. */
  readonly uid?: number;
  readonly gid?: number;
}

/** The tsc build, run by the node running the tests. */
export const DIST_COMMAND: SidecarCommand = { executable: process.execPath, leadingArgs: [SIDECAR_MAIN] };

/** The tsc build with the V8 options the image runs (the bin line's): for memory figures. */
export const SHIPPED_OPTIONS_COMMAND: SidecarCommand = { executable: process.execPath, leadingArgs: [...SIDECAR_NODE_OPTIONS, SIDECAR_MAIN] };

export type ExitResult = ChildExit;

export class Sidecar {
  readonly stderr: LineCollector;
  readonly stdout: LineCollector;
  readonly exited: Promise<ExitResult>;
  /** Set once "ServeMux listening" has been logged. */
  baseUrl = '';

  private constructor(readonly process: ChildProcess) {
    this.stderr = new LineCollector(process.stderr!);
    this.stdout = new LineCollector(process.stdout!);
    this.exited = watchExit(process);
  }

  /** Spawns the sidecar without waiting for anything; killed after the test. */
  static spawn(t: TestContext, args: readonly string[], command: SidecarCommand = DIST_COMMAND): Sidecar {
    const child = spawn(command.executable, [...command.leadingArgs, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...command.env },
      uid: command.uid,
      gid: command.gid,
    });
    const sidecar = new Sidecar(child);
    t.after(() => sidecar.kill('SIGKILL'));
    return sidecar;
  }

  /** Spawns the sidecar on a free loopback port and waits until it serves and knows the driver. */
  static async start(t: TestContext, args: readonly string[], timeoutMs = 15_000, command: SidecarCommand = DIST_COMMAND): Promise<Sidecar> {
    const sidecar = Sidecar.spawn(t, ['--http-endpoint=127.0.0.1:0', ...args], command);
    await sidecar.waitUntilServing(timeoutMs);
    await sidecar.waitForLog(/"CSI driver name"/, timeoutMs);
    return sidecar;
  }

  /** Waits for a log line on stderr or stdout (info lines go to stdout with --log-*-split-stream). */
  waitForLog(pattern: RegExp, timeoutMs: number): Promise<string> {
    return Promise.any([this.stderr, this.stdout].map((stream) => stream.waitForLine(pattern, timeoutMs))).catch(() => {
      throw new Error(`sidecar did not log ${pattern} within ${timeoutMs} ms; stderr:\n${this.stderr.text}`);
    });
  }

  async waitUntilServing(timeoutMs: number): Promise<void> {
    const line = await Promise.race([
      this.waitForLog(/"ServeMux listening"/, timeoutMs),
      this.exited.then((exit) => {
        throw new Error(`sidecar exited (${JSON.stringify(exit)}) before serving:\n${this.stderr.text}`);
      }),
    ]);
    const address = /address[=":]+([^"]+)"/.exec(line)![1];
    this.baseUrl = `http://${address}`;
  }

  request(urlPath = '/healthz', method = 'GET'): Promise<HttpResult> {
    return httpRequest(this.baseUrl + urlPath, method);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitResult> {
    return killAndWait(this.process, this.exited, signal);
  }
}

/** Runs the sidecar to completion (for flag tests) and returns its exit and output. */
export async function runSidecarToExit(
  args: readonly string[],
  timeoutMs = 15_000,
  command: SidecarCommand = DIST_COMMAND,
): Promise<ExitResult & { stdout: string; stderr: string }> {
  const child = spawn(command.executable, [...command.leadingArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...command.env } });
  const stdout = new LineCollector(child.stdout);
  const stderr = new LineCollector(child.stderr);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = await new Promise<ExitResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  clearTimeout(timer);
  return { ...exit, stdout: stdout.text, stderr: stderr.text };
}
