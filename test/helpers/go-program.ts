// Builds a Go program of the test tree (test drivers, differential oracles)
// with Debian's Go and its Go library packages (golang-go,
// golang-google-grpc-dev, golang-google-protobuf-dev; .ci/run installs them),
// once per source version: the binary is named by a hash of its sources, and
// concurrent test files that build it at once each rename a finished build
// into place. A missing toolchain fails the test that needs it, with what to
// install.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Where Debian's golang-*-dev packages install Go libraries (a GOPATH). */
const DEBIAN_GOPATH = '/usr/share/gocode';
/** The repository's test/ folder (this file runs from dist/test/helpers/). */
export const TEST_SOURCE_DIR = path.resolve(__dirname, '..', '..', '..', 'test');

const built = new Map<string, string>();

/**
 * Builds the Go package in `sourceDir` (absolute, or relative to test/) and
 * returns the binary's path. Throws naming the Debian packages to install
 * when the build fails.
 */
export function buildGoProgram(sourceDir: string, name: string): string {
  const dir = path.resolve(TEST_SOURCE_DIR, sourceDir);
  const cached = built.get(dir);
  if (cached) return cached;
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.go')).sort()) hash.update(file).update(fs.readFileSync(path.join(dir, file)));
  const buildDir = path.join(os.tmpdir(), 'csi-livenessprobe-ts-go');
  const binary = path.join(buildDir, `${name}-${hash.digest('hex').slice(0, 12)}`);
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(buildDir, { recursive: true });
    const partial = `${binary}.${process.pid}.partial`;
    try {
      execFileSync('go', ['build', '-o', partial, '.'], {
        cwd: dir,
        env: { ...process.env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOCACHE: path.join(buildDir, 'cache'), GOFLAGS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const output = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(
        `cannot build ${name} from ${dir} (install Debian's golang-go, golang-google-grpc-dev and golang-google-protobuf-dev; .ci/run does): ${(err as Error).message}\n${output}`,
      );
    }
    fs.renameSync(partial, binary);
  }
  built.set(dir, binary);
  return binary;
}
