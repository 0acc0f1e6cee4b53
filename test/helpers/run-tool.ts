// A command run to its end without blocking the event loop (tests that serve HTTP meanwhile need it),
// its exit code and output returned, never thrown: the caller asserts on them.

import { spawn } from 'node:child_process';
import { containerToolEnv } from '../../scripts/image/container-tools';

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `tool args` with the container tools' environment (scripts/image/containers.conf) and `env` over it. */
export function runTool(tool: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = spawn(tool, args, { env: { ...containerToolEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
