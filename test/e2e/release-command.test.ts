// `npm run release` (scripts/release/publish.ts) refusing what is not a release before any network:
// bad arguments (exit 2 and the usage), and archives that are missing, not OCI archives, built from
// another commit (an old archive), from a modified tree, or under a tag that is not vX.Y.Z (exit 1,
// the coded error). The archives are small OCI layouts with the labels `npm run image` sets (no
// layers; test/helpers/fake-release-archive.ts), tarred as the build tars them; the repository named is a port
// nothing listens on, so an archive that passed would end in REGISTRY_UNREACHABLE, which the good
// archive's case shows. The push itself is tested in test/runtime/registry-round-trip.test.ts.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, TestContext } from 'node:test';
import packageJson from '../../package.json';
import { FakeRelease, writeFakeReleaseArchive } from '../helpers/fake-release-archive';
import { REPO_ROOT } from '../helpers/image';
import { runTool } from '../helpers/run-tool';
import { makeTempDir } from '../helpers/tmp';

const RELEASE_COMMAND = path.join(REPO_ROOT, 'dist', 'scripts', 'release', 'publish.js');
/** Port 1 of 127.0.0.1: nothing listens there, so a connection is refused at once. */
const NOWHERE = '127.0.0.1:1/csi-livenessprobe-ts';
const USAGE_LINE = /^usage: npm run release -- <registry>\/<path> /m;
const HEAD = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const writeArchive = (t: TestContext, release: FakeRelease = {}) => writeFakeReleaseArchive(makeTempDir(t), release);

const release = (args: readonly string[]) => runTool(process.execPath, [RELEASE_COMMAND, ...args]);

test('bad arguments: exit 2, one line per problem and the usage, before anything is read', async () => {
  const cases: { args: string[]; problem: RegExp }[] = [
    { args: [], problem: /expected one repository \(<registry>\/<path>\), got 0/ },
    { args: [NOWHERE, 'registry.example.com/other'], problem: /expected one repository .*, got 2: 127\.0\.0\.1:1\/csi-livenessprobe-ts registry\.example\.com\/other/ },
    { args: [`${NOWHERE}:v1.0.0`], problem: /has a tag; give <registry>\/<path> alone: the tag is the archive's/ },
    { args: [`${NOWHERE}@sha256:${'0'.repeat(64)}`], problem: /has a digest; give <registry>\/<path> alone/ },
    { args: ['127.0.0.1:1/CSI'], problem: /"127\.0\.0\.1:1\/CSI" is not <registry>\/<path> \(a registry host, a lower-case path\)/ },
    { args: ['csi-livenessprobe-ts/image'], problem: /"csi-livenessprobe-ts" is not a registry host/ },
    { args: ['127.0.0.1:99999/x'], problem: /port 99999 is not 1-65535/ },
    { args: [NOWHERE, '--bogus'], problem: /Unknown option '--bogus'/ },
    { args: [NOWHERE, '--archive='], problem: /--archive is empty/ },
    { args: [NOWHERE, '--authfile=/nonexistent/auth.json'], problem: /--authfile=\/nonexistent\/auth\.json: no such file; write it with skopeo login/ },
  ];
  for (const { args, problem } of cases) {
    const result = await release(args);
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, problem, args.join(' '));
    assert.match(result.stderr, USAGE_LINE, args.join(' '));
    assert.equal(result.stdout, '', args.join(' '));
  }
  const help = await release(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, USAGE_LINE);
});

/** Runs the command on `archive`, expecting exit 1 with `code`; returns the error line. */
async function refused(archive: string, code: string, extra: readonly string[] = []): Promise<string> {
  const result = await release([NOWHERE, `--archive=${archive}`, ...extra]);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stderr, new RegExp(`^npm run release failed \\(${code}\\): `), result.stderr);
  return result.stderr;
}

test('an archive of this commit passes every check that needs no network: the next step, the registry, is what fails', async (t) => {
  const stderr = await refused(writeArchive(t), 'REGISTRY_UNREACHABLE');
  assert.match(stderr, /cannot reach the registry of 127\.0\.0\.1:1\/csi-livenessprobe-ts at 127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1; nothing was pushed/);
});

test('a missing archive, or a file that is not one: ARCHIVE_UNREADABLE, saying to build it', async (t) => {
  const missing = path.join(makeTempDir(t), 'csi-livenessprobe-ts.tar');
  assert.ok((await refused(missing, 'ARCHIVE_UNREADABLE')).includes(`no image archive at ${missing} (ENOENT); build it again from this checkout with npm run image`));
  const text = path.join(makeTempDir(t), 'notes.tar');
  fs.writeFileSync(text, 'not a tar file\n');
  assert.match(await refused(text, 'ARCHIVE_UNREADABLE'), /notes\.tar is not an OCI archive of one image index \(.*\); build it again/);
});

test('an old archive (built from another commit): ARCHIVE_STALE naming both commits', async (t) => {
  const other = 'f'.repeat(40);
  const stderr = await refused(writeArchive(t, { revision: other }), 'ARCHIVE_STALE');
  assert.ok(stderr.includes(`was built from commit ${other}, but ${HEAD} is checked out: it is an old archive, or from another checkout; build it again from this checkout with npm run image`), stderr);
});

test('an archive of a modified tree is refused unless --allow-dirty; a tag that is not vX.Y.Z or disagrees with the version label is refused', async (t) => {
  const dirty = writeArchive(t, { revision: `${HEAD}-dirty` });
  assert.match(await refused(dirty, 'ARCHIVE_NOT_RELEASABLE'), /was built from a tree with changes not in commit [0-9a-f]{40} \(revision [0-9a-f]{40}-dirty\); commit or drop them/);
  await refused(dirty, 'REGISTRY_UNREACHABLE', ['--allow-dirty']);
  assert.match(await refused(writeArchive(t, { tag: 'latest' }), 'ARCHIVE_NOT_RELEASABLE'), /its tag "latest" is not a release tag v<major>\.<minor>\.<patch>/);
  assert.match(await refused(writeArchive(t, { tag: 'v1.2' }), 'ARCHIVE_NOT_RELEASABLE'), /its tag "v1\.2" is not a release tag/);
  assert.match(await refused(writeArchive(t, { tag: 'v9.9.9' }), 'ARCHIVE_NOT_RELEASABLE'), new RegExp(`the linux/amd64 image's version label is "${packageJson.version.replace(/\./g, '\\.')}", the tag v9\\.9\\.9`));
  await refused(writeArchive(t, { tag: 'v1.0.0-rc.1', version: '1.0.0-rc.1' }), 'REGISTRY_UNREACHABLE');
});

test('stdout closed by its reader (npm run release | head -1): the command goes on and ends with its own coded error on stderr, no EPIPE crash', async (t) => {
  const archive = writeArchive(t);
  const child = spawn(process.execPath, [RELEASE_COMMAND, NOWHERE, `--archive=${archive}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 1, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Unhandled/, stderr);
  assert.match(stderr, /^npm run release failed \(REGISTRY_UNREACHABLE\): /, stderr);
});
