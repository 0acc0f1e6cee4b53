// The release path end to end: `npm run release` (scripts/release/publish.ts) pushes the archive
// `npm run image` built to a real registry on 127.0.0.1 (Debian's docker-registry, the CNCF
// Distribution registry, started by the test in a folder of its own), then the image is pulled back
// by digest as users pull it: by podman, into a containers storage of the test's own (nothing of the
// build's storage stands in), and by a containerd the test starts (`ctr images pull --plain-http
// --all-platforms`, as a kubelet's runtime fetches). The digests are the built ones, both platforms
// are there, and the image of this machine's platform, as pulled, runs in podman + runc under the
// example DaemonSet's securityContext and answers 200 against the test driver.
//
// And the failures a release must not hide: a stopped registry, one that wants an account, one
// that takes no pushes, a plain-HTTP registry not declared so, and a tag that names another image
// after the push: each exits 1 with the command's coded error. The image is built once for the file.
//
// Needs root, buildah, podman, runc, skopeo, containerd and docker-registry (.ci/run installs them).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test, TestContext } from 'node:test';
import { freePort } from '../../bench/processes';
import { BuiltImage, buildImage } from '../../scripts/image/build';
import { runContainerTool } from '../../scripts/image/container-tools';
import { hostPlatform, IMAGE_PLATFORMS, platformName } from '../../scripts/image/platforms';
import { ReleaseError } from '../../scripts/release/release-error';
import { verifyPushed } from '../../scripts/release/registry';
import { startContainerd } from '../helpers/containerd';
import { ownStorage, removeStorage } from '../helpers/containers-storage';
import { FakeDriver } from '../helpers/fake-driver';
import { httpRequest } from '../helpers/http';
import { daemonSetContainer, podmanFlagsOf, REPO_ROOT } from '../helpers/image';
import { startRegistry } from '../helpers/registry';
import { runTool, ToolResult } from '../helpers/run-tool';
import { makeTempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const RELEASE_COMMAND = path.join(REPO_ROOT, 'dist', 'scripts', 'release', 'publish.js');
const REPOSITORY_PATH = 'csi-livenessprobe-ts';
const SIDECAR_GID = 65532;
/** A pulled image's first answer: about 0.5 s natively, as in test/runtime/image-runtime.test.ts. */
const FIRST_ANSWER_LIMIT_MS = 30_000;

let built: BuiltImage;
/** Flags the release command needs for this build: --allow-dirty when it was built from a modified tree. */
let dirtyFlags: string[];
/** A storage of the file's own for podman's pulls, removed at the end. */
let storageConf: string;
let storageDir: string;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the runtime test runs podman and containerd as root (CI runs as root)');
  built = await buildImage();
  const revision = runContainerTool('podman', ['image', 'inspect', '--format', '{{index .Labels "org.opencontainers.image.revision"}}', built.images[0].localName]);
  dirtyFlags = revision.endsWith('-dirty') ? ['--allow-dirty'] : [];
  storageDir = fs.mkdtempSync(path.join('/var/tmp', 'lp-round-trip-'));
  storageConf = ownStorage(storageDir);
});
after(() => {
  if (!storageConf) return;
  removeStorage(storageConf);
  fs.rmSync(storageDir, { recursive: true, force: true });
});

/** Runs the release command as a user does; its exit code and output. */
function release(args: readonly string[]): Promise<ToolResult> {
  return runTool(process.execPath, [RELEASE_COMMAND, ...args]);
}

/** podman in the file's own storage. */
const podman = (args: readonly string[]) => runTool('podman', args, { CONTAINERS_STORAGE_CONF: storageConf });

function logFigure(t: TestContext, line: string): void {
  t.diagnostic(`registry-round-trip: ${line}`);
}

test('npm run release pushes the archive to a registry with its digests; podman and containerd pull it back by digest, both platforms; the pulled image answers 200', { timeout: 300_000 }, async (t) => {
  const registry = await startRegistry(t, makeTempDir(t));
  const repository = `${registry.address}/${REPOSITORY_PATH}`;
  const published = await release([repository, '--plain-http', ...dirtyFlags]);
  assert.equal(published.code, 0, published.stderr);
  const pullByDigest = `${repository}@${built.indexDigest}`;
  assert.match(published.stdout, new RegExp(`^pull by digest: ${pullByDigest.replace(/[.]/g, '\\.')}$`, 'm'), published.stdout);
  for (const image of built.images) {
    assert.ok(published.stdout.includes(`${platformName(image.platform)}: manifest ${image.manifestDigest}, configuration ${image.configDigest}`), published.stdout);
  }
  logFigure(t, `npm run release output:\n${published.stdout}`);

  // podman, by digest, each platform, into a storage that held nothing.
  for (const image of built.images) {
    const pulled = await podman(['pull', '--quiet', '--tls-verify=false', `--platform=${platformName(image.platform)}`, pullByDigest]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(`sha256:${pulled.stdout.trim()}`, image.configDigest, `podman pulled the built ${platformName(image.platform)} image (its ID is the configuration's digest)`);
    const inspected = await podman(['image', 'inspect', '--format', '{{.Architecture}} {{.Digest}} {{json .RepoDigests}}', image.configDigest.slice('sha256:'.length)]);
    assert.equal(inspected.code, 0, inspected.stderr);
    const [architecture, digest, repoDigestsJson] = inspected.stdout.trim().split(' ');
    const repoDigests = JSON.parse(repoDigestsJson) as string[];
    assert.equal(architecture, image.platform.architecture);
    assert.ok(repoDigests.includes(pullByDigest), `${pullByDigest} in ${repoDigestsJson}`);
    assert.ok(repoDigests.includes(`${repository}@${image.manifestDigest}`), repoDigestsJson);
    // podman records the digest it was asked for (the index's) and the platform's manifest it took.
    assert.equal(digest, built.indexDigest, inspected.stdout);
    logFigure(t, `${platformName(image.platform)}: built manifest ${image.manifestDigest}, podman pulled ${repoDigests.find((reference) => reference === `${repository}@${image.manifestDigest}`)}; image ID ${image.configDigest}`);
  }

  // containerd, by digest, every platform, as a kubelet's runtime pulls.
  const socket = await startContainerd(t, makeTempDir(t));
  const ctr = (args: readonly string[]) => runTool('ctr', ['--address', socket, '--namespace=k8s.io', ...args]);
  const fetched = await ctr(['images', 'pull', '--plain-http', '--all-platforms', pullByDigest]);
  assert.equal(fetched.code, 0, fetched.stderr + fetched.stdout);
  const listed = await ctr(['images', 'ls']);
  const row = listed.stdout.split('\n').find((line) => line.split(/\s+/)[0] === pullByDigest);
  assert.ok(row, `containerd stores ${pullByDigest}:\n${listed.stdout}`);
  const [, type, indexDigest] = row.split(/\s+/);
  assert.equal(type, 'application/vnd.oci.image.index.v1+json', row);
  assert.equal(indexDigest, built.indexDigest, row);
  const platformColumn = row.split(/\s+/).find((column) => column.startsWith('linux/'));
  assert.deepEqual(platformColumn?.split(',').sort(), IMAGE_PLATFORMS.map(platformName).sort(), row);
  logFigure(t, `containerd (ctr images pull --plain-http --all-platforms): image index ${indexDigest} (built ${built.indexDigest}), platforms ${platformColumn}`);
  // Each platform's manifest and configuration are in containerd's content store, their bytes the built digests.
  for (const image of built.images) {
    for (const digest of [image.manifestDigest, image.configDigest]) {
      const content = execFileSync('ctr', ['--address', socket, '--namespace=k8s.io', 'content', 'get', digest]);
      assert.equal(`sha256:${createHash('sha256').update(content).digest('hex')}`, digest, `containerd's ${platformName(image.platform)} content ${digest}`);
    }
    logFigure(t, `${platformName(image.platform)}: built manifest ${image.manifestDigest}, containerd pulled it (content store bytes hash to it)`);
  }

  // The image of this machine's platform, as pulled from the registry, runs as the DaemonSet runs it.
  const host = built.images.find((image) => image.platform === hostPlatform());
  assert.ok(host, `the build has an image for ${process.arch}`);
  const manifest = daemonSetContainer('liveness-probe');
  const socketMount = manifest.volumeMounts?.find((mount) => mount.name === 'socket-dir');
  assert.ok(socketMount, 'the liveness-probe container mounts socket-dir');
  const socketDir = makeTempDir(t);
  fs.chownSync(socketDir, 0, SIDECAR_GID);
  fs.chmodSync(socketDir, 0o750);
  const socketPath = path.join(socketDir, 'csi.sock');
  await FakeDriver.start(t, socketPath);
  // The DaemonSet's comment: the driver lets the sidecar's group reach its socket.
  fs.chownSync(socketPath, 0, SIDECAR_GID);
  fs.chmodSync(socketPath, 0o660);
  const port = await freePort();
  const args = (manifest.args ?? []).map((arg) => (arg.startsWith('--http-endpoint=') ? `--http-endpoint=127.0.0.1:${port}` : arg));
  const name = `csi-lp-round-trip-${process.pid}`;
  t.after(() => podman(['rm', '--force', '--time=0', name]));
  const started = await podman(['run', '--detach', `--name=${name}`, '--network=host', `--volume=${socketDir}:${socketMount.mountPath}`, ...podmanFlagsOf(manifest), host.configDigest.slice('sha256:'.length), ...args]);
  assert.equal(started.code, 0, started.stderr);
  const url = `http://127.0.0.1:${port}/healthz`;
  const healthy = await waitFor('200 from the image pulled by digest', async () => {
    const answer = await httpRequest(url, 'GET', 5_000);
    return answer.status === 200 ? answer : undefined;
  }, FIRST_ANSWER_LIMIT_MS, 100).catch(async (err: unknown) => {
    const logs = await podman(['logs', name]);
    throw new Error(`${(err as Error).message}; container logs: ${logs.stdout}${logs.stderr}`, { cause: err });
  });
  assert.equal(healthy.body, 'ok');
  logFigure(t, `${platformName(host.platform)} image pulled by digest from the registry: GET /healthz ${healthy.status} ${healthy.body}`);
});

/** Runs the release command against `repository`, expecting exit 1 with `code`; returns its stderr line. */
async function refusedRelease(t: TestContext, what: string, args: readonly string[], code: string): Promise<string> {
  const refused = await release([...args, ...dirtyFlags]);
  assert.equal(refused.code, 1, `${what}: exit code\n${refused.stdout}${refused.stderr}`);
  assert.doesNotMatch(refused.stdout, /pull by digest/, what);
  const line = refused.stderr.trim();
  assert.match(line, new RegExp(`^npm run release failed \\(${code}\\): `), `${what}: ${line}`);
  logFigure(t, `${what}: exit ${refused.code}\n${refused.stdout}${refused.stderr}`);
  return line;
}

test('a registry that is stopped, wants an account, takes no pushes, or speaks plain HTTP undeclared: the release command exits 1 naming the registry, the cause and what to do', { timeout: 120_000 }, async (t) => {
  const stopped = await startRegistry(t, makeTempDir(t));
  await stopped.stop();
  const unreachable = await refusedRelease(t, 'registry stopped', [`${stopped.address}/${REPOSITORY_PATH}`, '--plain-http'], 'REGISTRY_UNREACHABLE');
  assert.ok(unreachable.includes(`cannot reach the registry of ${stopped.address}/${REPOSITORY_PATH} at ${stopped.address}: connect ECONNREFUSED ${stopped.address}; nothing was pushed`), unreachable);

  const guarded = await startRegistry(t, makeTempDir(t), { authentication: true });
  const unauthorized = await refusedRelease(t, 'registry with authentication, no account', [`${guarded.address}/${REPOSITORY_PATH}`, '--plain-http'], 'PUSH_REFUSED');
  assert.ok(unauthorized.includes(`pushing to ${guarded.address}/${REPOSITORY_PATH}:v`), unauthorized);
  assert.match(unauthorized, /unauthorized: authentication required; log in to 127\.0\.0\.1:\d+ with an account that may push to /, unauthorized);

  const readOnly = await startRegistry(t, makeTempDir(t), { readOnly: true });
  const unsupported = await refusedRelease(t, 'read-only registry', [`${readOnly.address}/${REPOSITORY_PATH}`, '--plain-http'], 'PUSH_REFUSED');
  assert.ok(unsupported.includes(`StatusCode: 405, Method not allowed; the registry takes no pushes at ${readOnly.address}/${REPOSITORY_PATH} (read-only, or a pull-through mirror)`), unsupported);

  const plain = await startRegistry(t, makeTempDir(t));
  const undeclared = await refusedRelease(t, 'plain-HTTP registry without --plain-http', [`${plain.address}/${REPOSITORY_PATH}`], 'PUSH_REFUSED');
  assert.match(undeclared, /server gave HTTP response to HTTPS client; the registry speaks plain HTTP: pass --plain-http if it is a test registry/, undeclared);
  // Nothing reached the registry's tag.
  const tags = await httpRequest(`http://${plain.address}/v2/${REPOSITORY_PATH}/tags/list`);
  assert.equal(tags.status, 404, tags.body);
});

test('a tag that names another image after the push: the read-back says the digest changed, naming both', { timeout: 120_000 }, async (t) => {
  const registry = await startRegistry(t, makeTempDir(t));
  const repository = `${registry.address}/${REPOSITORY_PATH}`;
  const published = await release([repository, '--plain-http', ...dirtyFlags]);
  assert.equal(published.code, 0, published.stderr);
  const tag = /:(v[^:]+)$/.exec(built.reference)![1];
  // Another push replaces the tag: one platform's image alone, as a single-platform build would push it.
  const host = built.images.find((image) => image.platform === hostPlatform())!;
  const replaced = await runTool('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `--override-arch=${host.platform.architecture}`, `oci-archive:${built.archivePath}`, `docker://${repository}:${tag}`]);
  assert.equal(replaced.code, 0, replaced.stderr);
  const layout = { indexDigest: built.indexDigest, referenceName: built.reference, images: built.images };
  await assert.rejects(verifyPushed({ repository, plainHttp: true }, tag, layout), (err: unknown) => {
    assert.ok(err instanceof ReleaseError, String(err));
    assert.equal(err.code, 'DIGEST_CHANGED');
    assert.ok(err.message.includes(`the registry's ${repository}:${tag} is sha256:`), err.message);
    assert.ok(err.message.includes(`not the archive's image index ${built.indexDigest}`), err.message);
    logFigure(t, `tag replaced after the push: ${err.message}`);
    return true;
  });
});
