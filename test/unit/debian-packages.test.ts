// What `npm run image` says when apt-get cannot download a stand-in base's Debian package
// (scripts/image/debian-packages.ts): the advice follows from what this machine's apt lists hold,
// read with the real apt-cache. A version the lists no longer hold (Debian's mirrors keep the newest
// update only) is this machine being behind, not a missing architecture.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { aptVersions, downloadFailureHint } from '../../scripts/image/debian-packages';

const hostArch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
const installed = execFileSync('dpkg-query', ['-W', '-f=${Version}', `libc6:${hostArch}`], { encoding: 'utf8' });

test('apt\'s versions of libc6 for this machine\'s architecture include the installed one; an architecture apt has no lists for has none', () => {
  assert.ok(aptVersions('libc6', hostArch).includes(installed), `${aptVersions('libc6', hostArch).join(', ')} lacks ${installed}`);
  assert.deepEqual(aptVersions('libc6', 'riscv64'), []);
});

test('download failure advice: a missing architecture is added, a version the lists lack means upgrading this machine, a listed one a mirror problem', () => {
  assert.match(downloadFailureHint('libc6', 'riscv64', installed, aptVersions('libc6', 'riscv64'), true), /^apt's lists have no libc6:riscv64: run dpkg --add-architecture riscv64 && apt-get update$/);
  const behind = downloadFailureHint('libc6', hostArch, '2.36-9+deb12u1~old', aptVersions('libc6', hostArch), true);
  assert.match(behind, new RegExp(`at .*${installed.replace(/[+.]/g, '\\$&')}.*, not at 2\\.36-9\\+deb12u1~old, the version installed on this machine`));
  assert.match(behind, /apt-get install --only-upgrade libc6 libgcc-s1 libstdc\+\+6/);
  assert.doesNotMatch(behind, /add-architecture/);
  assert.match(downloadFailureHint('libc6', hostArch, installed, aptVersions('libc6', hostArch), false), /the mirror or the network failed/);
});
