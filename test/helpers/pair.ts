// The test driver and the sidecar against it, each a real process, ready to serve.

import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { DriverStack, FakeDriver } from './fake-driver';
import { DIST_COMMAND, Sidecar, SidecarCommand } from './sidecar';
import { makeTempDir } from './tmp';

export interface PairOptions {
  readonly driverArgs?: readonly string[];
  readonly sidecarArgs?: readonly string[];
  readonly command?: SidecarCommand;
  readonly stack?: DriverStack;
}

export async function startDriverAndSidecar(t: TestContext, { driverArgs = [], sidecarArgs = [], command = DIST_COMMAND, stack = 'grpc-js' }: PairOptions = {}) {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  const driver = await FakeDriver.start(t, socketPath, driverArgs, stack);
  const sidecar = await Sidecar.start(t, [`--csi-address=${socketPath}`, ...sidecarArgs], 15_000, command);
  return { socketPath, driver, sidecar };
}

/** The sidecar under a shell that first lowers its open-file limit (`ulimit -n`). */
export function withOpenFileLimit(limit: number, command: SidecarCommand = DIST_COMMAND): SidecarCommand {
  return { executable: '/bin/sh', leadingArgs: ['-c', `ulimit -n ${limit} && exec "$0" "$@"`, command.executable, ...command.leadingArgs] };
}
