// The commit `--version` names (scripts/bundle.ts gitCommit, written into the bundle): a build from a
// tree with changes not in the commit says so ("-dirty", as upstream's `git describe --dirty`), as
// the SBOM's git-tree property does, rather than claim the commit's code. Real git, a temporary repository.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gitCommit } from '../../scripts/bundle';
import { makeTempDir } from '../helpers/tmp';

test('gitCommit: the short commit of a clean tree; "-dirty" appended when files differ from it; nothing outside git', (t) => {
  const dir = makeTempDir(t);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '--quiet');
  fs.writeFileSync(path.join(dir, 'a.txt'), 'one\n');
  git('add', 'a.txt');
  git('commit', '--quiet', '-m', 'one');
  const short = git('rev-parse', '--short=12', 'HEAD');
  const saved = process.env.CSI_LIVENESSPROBE_GIT_COMMIT;
  delete process.env.CSI_LIVENESSPROBE_GIT_COMMIT;
  try {
    assert.equal(gitCommit(dir), short);
    fs.writeFileSync(path.join(dir, 'a.txt'), 'two\n');
    assert.equal(gitCommit(dir), `${short}-dirty`);
    fs.rmSync(path.join(dir, '.git'), { recursive: true });
    assert.equal(gitCommit(dir), '');
  } finally {
    if (saved !== undefined) process.env.CSI_LIVENESSPROBE_GIT_COMMIT = saved;
  }
});
