// What the repository ships speaks only of what its reader can follow: an issue number names the
// tracker it is in, by its URL on the same line ("upstream's issue 68
// (https://github.com/kubernetes-csi/livenessprobe/issues/68)", "[libuv#2537](https://...)").
// A bare "issue #29" or "(#68)" points into no tracker a reader of the repository has. The tests
// themselves are left out: a regression test names the issue it guards (STYLE: livenessprobe's
// TestProbe_issue68), and a reader follows the test, not the number.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/image';

/** "issue 12", "issues #3", "(#68)", " #29's": an issue reference; "libuv#2537" and "#fff" are not. */
const ISSUE_REFERENCE = /\bissues?\s+#?(\d+)\b|(?<![\w&/#])#(\d+)\b/gi;
/** Files that are data, not prose: the lock file's hashes, the dashboard's colours. */
const NOT_PROSE = new Set(['package-lock.json', 'deploy/monitoring/dashboard.json']);

/** Tracked files outside test/, as a fresh clone has them. */
function shippedFiles(): string[] {
  return execFileSync('git', ['ls-files'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file !== '' && !file.startsWith('test/') && !NOT_PROSE.has(file) && fs.existsSync(path.join(REPO_ROOT, file)));
}

test('no issue number outside the tests without the URL of its tracker on the same line', () => {
  const unfollowable: string[] = [];
  for (const file of shippedFiles()) {
    const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
    if (text.includes('\0')) continue;
    text.split('\n').forEach((line, index) => {
      for (const match of line.matchAll(ISSUE_REFERENCE)) {
        const number = match[1] ?? match[2];
        if (!new RegExp(`https?://\\S+/(issues|pull)/${number}\\b`).test(line)) unfollowable.push(`${file}:${index + 1}: ${line.trim()}`);
      }
    });
  }
  assert.deepEqual(unfollowable, [], 'give the tracker\'s URL, or say what the number stood for');
});
