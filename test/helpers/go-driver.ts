// Builds the grpc-go test driver (test/driver/go) with Debian's Go and grpc-go
// packages (golang-go, golang-google-grpc-dev; .ci/run installs them), once per
// source version: the binary is named by a hash of its source, and concurrent
// test files that build it at once each rename a finished build into place.
// A missing toolchain fails the test that needs it, with what to install.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SOURCE_DIR = path.resolve(__dirname, '..', '..', '..', 'test', 'driver', 'go');
/** Where Debian's golang-google-grpc-dev installs grpc-go (a GOPATH). */
const DEBIAN_GOPATH = '/usr/share/gocode';

let built: string | undefined;

export function goDriverBinary(): string {
  if (built) return built;
  const source = fs.readFileSync(path.join(SOURCE_DIR, 'csi-test-driver.go'));
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const buildDir = path.join(os.tmpdir(), 'csi-livenessprobe-ts-go');
  const binary = path.join(buildDir, `csi-test-driver-go-${hash}`);
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(buildDir, { recursive: true });
    const partial = `${binary}.${process.pid}.partial`;
    try {
      execFileSync('go', ['build', '-o', partial, '.'], {
        cwd: SOURCE_DIR,
        env: { ...process.env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOCACHE: path.join(buildDir, 'cache'), GOFLAGS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      const output = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(
        `cannot build the grpc-go test driver (install Debian's golang-go and golang-google-grpc-dev; .ci/run does): ${(err as Error).message}\n${output}`,
      );
    }
    fs.renameSync(partial, binary);
  }
  built = binary;
  return binary;
}
