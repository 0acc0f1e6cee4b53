// Starts the test CSI driver (test/driver/csi-test-driver.ts) as a real process
// on a unix socket, and scripts it: change behaviour, count calls, kill it.

import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { ChildExit, killAndWait, watchExit } from '../../bench/child-exit';
import { DRIVER_SCRIPT } from '../../scripts/test-driver-path';
import { goDriverBinary } from './go-driver';
import { LineCollector } from './lines';


/**
 * The gRPC stacks a test driver runs on: grpc-js (test/driver/csi-test-driver.ts), grpc-go (test/driver/go)
 * and gRPC C-core through Debian's python3-grpcio (test/driver/python).
 */
export type DriverStack = 'grpc-js' | 'grpc-go' | 'grpc-core';
export const DRIVER_STACKS: readonly DriverStack[] = ['grpc-js', 'grpc-go', 'grpc-core'];
const PYTHON_DRIVER_SCRIPT = path.resolve(__dirname, '..', '..', '..', 'test', 'driver', 'python', 'csi_test_driver.py');
/** Debian's Python, which python3-grpcio installs for (another python3 on PATH may lack it). */
const DEBIAN_PYTHON = '/usr/bin/python3';

function driverCommand(stack: DriverStack): [string, string[]] {
  switch (stack) {
    case 'grpc-js':
      return [process.execPath, [DRIVER_SCRIPT]];
    case 'grpc-go':
      return [goDriverBinary(), []];
    case 'grpc-core':
      return [DEBIAN_PYTHON, [PYTHON_DRIVER_SCRIPT]];
  }
}
const START_TIMEOUT_MS = 15_000;

export interface DriverEvent {
  readonly event: string;
  readonly method?: string;
  readonly count?: number;
  readonly [key: string]: unknown;
}

export class FakeDriver {
  readonly events: LineCollector;
  readonly exited: Promise<ChildExit>;

  /** The socket path or "host:port" the driver listens on. */
  address = '';

  private constructor(readonly process: ChildProcess) {
    this.events = new LineCollector(process.stdout!);
    this.exited = watchExit(process);
  }

  /** Starts a driver on `socketPath` with extra flags (e.g. ['--ready', 'false']); stopped after the test. */
  static start(t: TestContext, socketPath: string, args: readonly string[] = [], stack: DriverStack = 'grpc-js'): Promise<FakeDriver> {
    return FakeDriver.launch(t, ['--socket', socketPath, ...args], stack);
  }

  /** Starts a driver on a free TCP port of 127.0.0.1; `address` is its "127.0.0.1:port". */
  static startTcp(t: TestContext, args: readonly string[] = [], stack: DriverStack = 'grpc-js'): Promise<FakeDriver> {
    return FakeDriver.launch(t, ['--tcp', '127.0.0.1:0', ...args], stack);
  }

  private static async launch(t: TestContext, args: readonly string[], stack: DriverStack = 'grpc-js'): Promise<FakeDriver> {
    const [executable, leadingArgs] = driverCommand(stack);
    const child = spawn(executable, [...leadingArgs, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const driver = new FakeDriver(child);
    t.after(() => driver.kill('SIGKILL'));
    const listening = await driver.events.waitForLine(/"event":"listening"/, START_TIMEOUT_MS);
    driver.address = (JSON.parse(listening) as { address: string }).address;
    return driver;
  }

  /** How many calls of `method` ("Probe", "GetPluginInfo") the driver has received. */
  calls(method: string): number {
    return this.parsedEvents().filter((e) => e.event === 'call' && e.method === method).length;
  }

  /** Waits until the driver has received `count` calls of `method`. */
  async waitForCalls(method: string, count: number, timeoutMs = 10_000): Promise<void> {
    await this.events.waitForLine(new RegExp(`"event":"call","method":"${method}","count":${count}\\b`), timeoutMs);
  }

  /** Changes behaviour at run time (keys as in DriverBehaviour) and waits until applied. */
  async set(changes: Record<string, unknown>): Promise<void> {
    const from = this.events.lines.length;
    this.process.stdin!.write(JSON.stringify(changes) + '\n');
    await this.events.waitForLine(/"event":"applied"/, 5_000, from);
  }

  /** Sends a signal and waits for the process to end. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await killAndWait(this.process, this.exited, signal);
  }

  private parsedEvents(): DriverEvent[] {
    return this.events.lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as DriverEvent);
  }
}
