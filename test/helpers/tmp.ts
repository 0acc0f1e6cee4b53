// A temporary folder per test, removed after it even when it fails.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

export function makeTempDir(t: TestContext): string {
  // Short prefix: unix socket paths must stay under 108 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
