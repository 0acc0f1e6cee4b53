// Debian's containerd started for one test with its own root, state and socket under the test's
// folder (the image store alone: no CRI plugin), as a kubelet's runtime holds images; stopped after it.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { runTool } from './run-tool';
import { waitFor } from './wait';

/** containerd answers `ctr version` within a second or two here; a loaded machine gets ten times that. */
const CONTAINERD_START_TIMEOUT_MS = 20_000;

/** Starts containerd with its own root, state and socket under `dir`; resolves with its socket once it answers. */
export async function startContainerd(t: TestContext, dir: string): Promise<string> {
  const socket = path.join(dir, 'containerd.sock');
  const config = path.join(dir, 'config.toml');
  fs.writeFileSync(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      // The image store is what is tested; the CRI plugin would start networking and a kubelet's services.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${socket}"`,
      '[ttrpc]',
      `  address = "${socket}.ttrpc"`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'),
  );
  const containerd: ChildProcess = spawn('containerd', ['--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  containerd.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  t.after(async () => {
    if (containerd.exitCode === null) {
      containerd.kill('SIGTERM');
      await new Promise((resolve) => containerd.once('exit', resolve));
    }
  });
  try {
    await waitFor(`containerd answering on ${socket}`, async () => ((await runTool('ctr', ['--address', socket, 'version'])).code === 0 ? true : undefined), CONTAINERD_START_TIMEOUT_MS, 100);
  } catch (err) {
    throw new Error(`${(err as Error).message}; containerd's stderr: ${stderr}`, { cause: err });
  }
  return socket;
}
