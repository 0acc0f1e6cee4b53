// `npm run release` (scripts/release/publish.ts) against a real registry on 127.0.0.1 (Debian's
// docker-registry, test/helpers/registry.ts), with small archives of this commit
// (test/helpers/fake-release-archive.ts) so that no image is built: a repository with a port and a
// nested path, the same release pushed twice (safe: the registry already holds it), and another
// build of the same version pushed over a published tag (refused: a release tag names one image
// forever, so that pulls by tag and by the announced digest agree); a registry whose TLS
// certificate this machine does not trust, told apart from a refusal; and a machine without
// skopeo. The full image's round trip, pulled back by podman and containerd, is
// test/runtime/registry-round-trip.test.ts.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import packageJson from '../../package.json';
import { writeFakeReleaseArchive } from '../helpers/fake-release-archive';
import { httpRequest } from '../helpers/http';
import { REPO_ROOT } from '../helpers/image';
import { startRegistry } from '../helpers/registry';
import { runTool } from '../helpers/run-tool';
import { makeTempDir } from '../helpers/tmp';

const RELEASE_COMMAND = path.join(REPO_ROOT, 'dist', 'scripts', 'release', 'publish.js');
const TAG = `v${packageJson.version}`;

const release = (args: readonly string[]) => runTool(process.execPath, [RELEASE_COMMAND, ...args]);

/** The image index digest an archive written by writeFakeReleaseArchive names (its index.json's one entry). */
function indexDigestOf(archive: string): string {
  const layout = path.join(path.dirname(archive), 'layout');
  return (JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0].digest;
}

/** The digest of what the registry serves under `tag` (its bytes, hashed here). */
async function servedDigest(address: string, repositoryPath: string, tag: string): Promise<string> {
  const answer = await runTool('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${address}/${repositoryPath}:${tag}`]);
  assert.equal(answer.code, 0, answer.stderr);
  return `sha256:${createHash('sha256').update(answer.stdout).digest('hex')}`;
}

test('a repository with a port and a nested path; the same release pushed twice succeeds both times with the same digest', { timeout: 120_000 }, async (t) => {
  const registry = await startRegistry(t, makeTempDir(t));
  const repositoryPath = 'team/storage/csi-livenessprobe-ts';
  const repository = `${registry.address}/${repositoryPath}`;
  const archive = writeFakeReleaseArchive(makeTempDir(t));
  const digest = indexDigestOf(archive);
  for (const attempt of ['first push', 'second push of the same archive']) {
    const published = await release([repository, '--plain-http', `--archive=${archive}`]);
    assert.equal(published.code, 0, `${attempt}: ${published.stdout}${published.stderr}`);
    assert.match(published.stdout, new RegExp(`^pull by digest: ${repository.replace(/\./g, '\\.')}@${digest}$`, 'm'), attempt);
    // An archive outside the checkout is named by its absolute path, not as ../../tmp/...
    assert.ok(published.stdout.startsWith(`release ${TAG} of ${archive} (commit `), published.stdout);
  }
  assert.equal(await servedDigest(registry.address, repositoryPath, TAG), digest);
  const tags = await httpRequest(`http://${registry.address}/v2/${repositoryPath}/tags/list`);
  assert.deepEqual(JSON.parse(tags.body), { name: repositoryPath, tags: [TAG] });
});

test('another build of the same version over a published tag: TAG_TAKEN naming both digests, and the tag keeps the published image', { timeout: 120_000 }, async (t) => {
  const registry = await startRegistry(t, makeTempDir(t));
  const repositoryPath = 'csi-livenessprobe-ts';
  const repository = `${registry.address}/${repositoryPath}`;
  const published = writeFakeReleaseArchive(makeTempDir(t), { created: '2026-01-01T00:00:00Z' });
  const rebuilt = writeFakeReleaseArchive(makeTempDir(t), { created: '2026-02-01T00:00:00Z' });
  const [publishedDigest, rebuiltDigest] = [indexDigestOf(published), indexDigestOf(rebuilt)];
  assert.notEqual(publishedDigest, rebuiltDigest);

  const first = await release([repository, '--plain-http', `--archive=${published}`]);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  const second = await release([repository, '--plain-http', `--archive=${rebuilt}`]);
  assert.equal(second.code, 1, second.stdout + second.stderr);
  assert.doesNotMatch(second.stdout, /pull by digest/);
  const line = second.stderr.trim();
  assert.match(line, /^npm run release failed \(TAG_TAKEN\): /, line);
  assert.ok(line.includes(`${repository}:${TAG} already holds image index ${publishedDigest}, not this archive's ${rebuiltDigest}`), line);
  assert.match(line, /nothing was pushed/, line);
  assert.match(line, /npm version patch/, line);
  assert.equal(await servedDigest(registry.address, repositoryPath, TAG), publishedDigest, 'the published tag still names the published image');
});

test('a registry whose TLS certificate is not trusted here: PUSH_REFUSED saying so and where its CA goes, not "check the path"', { timeout: 120_000 }, async (t) => {
  const registry = await startRegistry(t, makeTempDir(t), { tls: true });
  const repository = `${registry.address}/csi-livenessprobe-ts`;
  const archive = writeFakeReleaseArchive(makeTempDir(t));
  const refused = await release([repository, `--archive=${archive}`]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const line = refused.stderr.trim();
  assert.match(line, /^npm run release failed \(PUSH_REFUSED\): pushing to 127\.0\.0\.1:\d+\/csi-livenessprobe-ts:v\S+ failed: .*x509: /, line);
  assert.ok(line.includes(`the registry's TLS certificate is not trusted on this machine: put the CA that signed it in /etc/containers/certs.d/${registry.address}/ca.crt`), line);
  assert.doesNotMatch(line, /check the path/, line);
  // The test registry's own certificate is what --plain-http (no TLS verification) is for.
  const published = await release([repository, '--plain-http', `--archive=${archive}`]);
  assert.equal(published.code, 0, published.stdout + published.stderr);
});

test('without skopeo: the command says it is missing and which package to install, before any push, not "check the path"', { timeout: 60_000 }, async (t) => {
  const registry = await startRegistry(t, makeTempDir(t));
  // A PATH with what the command needs besides skopeo: node, git and tar.
  const bin = makeTempDir(t);
  for (const tool of ['git', 'tar']) {
    const found = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    fs.symlinkSync(found, path.join(bin, tool));
  }
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  const archive = writeFakeReleaseArchive(makeTempDir(t));
  const refused = await runTool(process.execPath, [RELEASE_COMMAND, `${registry.address}/csi-livenessprobe-ts`, '--plain-http', `--archive=${archive}`], { PATH: bin });
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  const line = refused.stderr.trim();
  assert.match(line, /^npm run release failed \(TOOL_MISSING\): skopeo not found or not working \(spawnSync skopeo ENOENT\); install it: apt-get install skopeo; nothing was pushed$/, line);
  const tags = await httpRequest(`http://${registry.address}/v2/csi-livenessprobe-ts/tags/list`);
  assert.equal(tags.status, 404, tags.body);
});
