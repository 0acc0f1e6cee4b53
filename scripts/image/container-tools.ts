// buildah and podman as `npm run image` and the container runtime test call
// them: Debian's packages, configured by scripts/image/containers.conf, with
// errors that name the command and what it printed.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const CONTAINERS_CONF = path.join(ROOT, 'scripts', 'image', 'containers.conf');

/** The Debian packages that provide each tool (.ci/run installs them). */
const DEBIAN_PACKAGE_OF: Readonly<Record<ContainerTool, string>> = { buildah: 'buildah', podman: 'podman', runc: 'runc' };
export type ContainerTool = 'buildah' | 'podman' | 'runc';

/** The environment every buildah and podman call runs with: this repository's containers.conf. */
export function containerToolEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CONTAINERS_CONF };
}

/**
 * Throws, naming the Debian package to install, when a tool is not on PATH or
 * does not run. A missing tool is a failure, never a reason to skip.
 */
export function requireContainerTools(tools: readonly ContainerTool[] = ['buildah', 'podman', 'runc']): void {
  const missing = tools.filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) {
    const packages = missing.map((tool) => DEBIAN_PACKAGE_OF[tool]).join(' ');
    throw new Error(`${missing.join(', ')} not found or not working; install the Debian packages: apt-get install ${packages}`);
  }
  if (!fs.existsSync(CONTAINERS_CONF)) throw new Error(`${CONTAINERS_CONF} is missing`);
}

/**
 * Runs `tool args` and returns its stdout, trimmed. Throws with the command line,
 * the exit status and stderr when it fails; `timeoutMs` bounds it.
 */
export function runContainerTool(tool: 'buildah' | 'podman', args: readonly string[], timeoutMs = 300_000): string {
  try {
    return execFileSync(tool, args, { env: containerToolEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }).trim();
  } catch (err) {
    const e = err as { status?: number | null; signal?: string | null; stderr?: string };
    const how = e.signal ? `killed by ${e.signal} (limit ${timeoutMs} ms)` : `exit status ${e.status}`;
    throw new Error(`${tool} ${args.join(' ')}: ${how}: ${(e.stderr ?? '').trim()}`, { cause: err });
  }
}
