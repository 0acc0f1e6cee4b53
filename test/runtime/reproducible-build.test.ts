// Issue #30: an image an auditor can verify. The commit at HEAD is cloned twice into fresh folders
// (paths of different lengths) and built with `npm run image` in each, one after the other, each
// in a containers storage of its own (CONTAINERS_STORAGE_CONF), so each assembles its stand-in bases
// from scratch: its own npm pack of Node.js, its own apt-get download of the Debian packages. The two
// archives, SBOMs and bundles must be the same bytes; a difference is named down to the JSON field or
// the layer's tar entry and header field that differs (test/helpers/layout-difference.ts).
//
// Then the first build's SBOMs are held to what the images carry, read from the layers themselves:
// valid CycloneDX (the library's strict JSON schema validator), the same file inside each image as
// beside the archive, the sidecar's commit and the hashes of /livenessprobe, of the bundle and of the
// SEA blob inside it, Node.js's SHA-256 as released (the binary /livenessprobe was made from), exactly
// the Debian packages whose files the image carries, exactly the npm packages esbuild compiled in.
//
// node_modules: each clone gets a hard-linked copy of this checkout's, which `npm ci` made from the same
// package-lock.json (checked unchanged from HEAD); the build only reads it, and a copy costs no time
// where `npm ci` costs half a minute per clone. Needs root, buildah, podman, git, apt and npm's registry.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import packageJson from '../../package.json';
import { BUNDLE_FILE_NAME, bundleSidecar, SIDECAR_NODE_OPTIONS, SidecarBundle } from '../../scripts/bundle';
import { hostPlatform, IMAGE_PLATFORMS, ImagePlatform, platformName } from '../../scripts/image/platforms';
import { NODE_LICENSE_CONTEXT_FILE, SEA_IMAGE_PATH } from '../../scripts/image/sea';
import { PROPERTY_PREFIX, SBOM_IMAGE_PATH } from '../../scripts/image/sbom';
import { ownStorage, removeStorage } from '../helpers/containers-storage';
import { REPO_ROOT } from '../helpers/image';
import { layoutDifference, tarDifference } from '../helpers/layout-difference';
import { readTarEntries } from '../helpers/tar-entries';

/** One `npm run image` costs 40-90 s on 2 cores with the stand-ins assembled; each build gets 5 minutes. */
const BUILD_TIMEOUT_MS = 300_000;
const ARCHIVE_NAME = 'csi-livenessprobe-ts.tar';
/** The files of the image that no Debian package provides: the stand-in's own and the Dockerfile's. */
const NOT_FROM_DEBIAN = new Set([
  'etc/passwd',
  'etc/group',
  'etc/os-release',
  'lib',
  'lib64',
  'bin',
  'sbin',
  SEA_IMAGE_PATH.slice(1),
  'licenses/THIRD-PARTY-LICENSES.txt',
  `licenses/${NODE_LICENSE_CONTEXT_FILE}`,
  SBOM_IMAGE_PATH.slice(1),
]);
/** What the stand-in leaves out of a package's files (scripts/image/stand-in-base.ts), as a statement of its own. */
const LEFT_OUT_OF_PACKAGES = /^usr\/share\/(doc|lintian|gdb|gcc)(\/|$)/;
const DEP5_FIRST_LINE = /^Format:\s*https?:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.\d+\/?\s*$/m;

const git = (args: readonly string[], cwd = REPO_ROOT) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface CleanBuild {
  readonly label: string;
  readonly checkout: string;
  readonly storageConf: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly archive: string;
  readonly layoutDir: string;
  readonly sbomPath: (platform: ImagePlatform) => string;
  readonly contextBundle: string;
}

const workDirs: string[] = [];

/** `command args` in `cwd` without blocking the event loop; rejects with its output's tail when it fails. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} in ${cwd}: ${signal ? `killed by ${signal} after ${timeoutMs} ms` : `exit ${code}`}\n${output.slice(-4_000)}`));
    });
  });
}

/** Clones `commit` into a new folder named with `label` and runs `npm run image` there in a storage of its own. */
async function cleanBuild(label: string, commit: string): Promise<CleanBuild> {
  const dir = fs.mkdtempSync(path.join('/var/tmp', 'lp-repro-'));
  workDirs.push(dir);
  const storageDir = path.join(dir, 'containers');
  fs.mkdirSync(storageDir);
  const storageConf = ownStorage(storageDir);
  const checkout = path.join(dir, label);
  git(['clone', '--quiet', '--no-checkout', REPO_ROOT, checkout]);
  git(['checkout', '--quiet', '--detach', commit], checkout);
  execFileSync('cp', ['-al', path.join(REPO_ROOT, 'node_modules'), path.join(checkout, 'node_modules')]);
  const env: NodeJS.ProcessEnv = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf };
  delete env.SOURCE_DATE_EPOCH; // taken from the commit, as a user's build takes it
  delete env.CSI_LIVENESSPROBE_GIT_COMMIT;
  const startedAt = new Date();
  await run('npm', ['run', 'image'], checkout, env, BUILD_TIMEOUT_MS);
  const imageDir = path.join(checkout, 'dist', 'image');
  return {
    label,
    checkout,
    storageConf,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    archive: path.join(imageDir, ARCHIVE_NAME),
    layoutDir: path.join(imageDir, 'layout'),
    sbomPath: (platform) => path.join(imageDir, `${path.basename(ARCHIVE_NAME, '.tar')}.${platform.architecture}.cdx.json`),
    contextBundle: path.join(imageDir, 'context', BUNDLE_FILE_NAME),
  };
}

interface PlatformDigests {
  readonly manifest: string;
  readonly config: string;
  readonly layers: readonly string[];
}

/** The index digest and each platform's manifest, configuration and layer digests of a layout. */
function digestsOf(layoutDir: string): { index: string; platforms: Map<string, PlatformDigests> } {
  const blob = (digest: string) => JSON.parse(fs.readFileSync(path.join(layoutDir, 'blobs', ...digest.split(':')), 'utf8')) as Record<string, unknown>;
  const index = (JSON.parse(fs.readFileSync(path.join(layoutDir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0].digest;
  const platforms = new Map<string, PlatformDigests>();
  for (const entry of (blob(index) as { manifests: { digest: string; platform: { os: string; architecture: string } }[] }).manifests) {
    const manifest = blob(entry.digest) as { config: { digest: string }; layers: { digest: string }[] };
    platforms.set(`${entry.platform.os}/${entry.platform.architecture}`, { manifest: entry.digest, config: manifest.config.digest, layers: manifest.layers.map((layer) => layer.digest) });
  }
  return { index, platforms };
}

/** Unpacks `platform`'s layers from the layout into a new folder, in order; throws on a whiteout (none is expected). */
function unpackImage(layoutDir: string, platform: ImagePlatform, into: string): string {
  const digests = digestsOf(layoutDir).platforms.get(platformName(platform));
  assert.ok(digests, `the layout has a ${platformName(platform)} image`);
  const rootfs = path.join(into, `rootfs-${platform.architecture}`);
  fs.mkdirSync(rootfs);
  for (const layer of digests.layers) {
    const blob = path.join(layoutDir, 'blobs', ...layer.split(':'));
    const whiteouts = execFileSync('tar', ['-tzf', blob], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).split('\n').filter((name) => /(^|\/)\.wh\./.test(name));
    assert.deepEqual(whiteouts, [], `layer ${layer} deletes files`);
    execFileSync('tar', ['-xzf', blob, '-C', rootfs, '--no-same-owner']);
  }
  return rootfs;
}

interface SbomComponent {
  type: string;
  name: string;
  group?: string;
  version?: string;
  purl?: string;
  hashes?: { alg: string; content: string }[];
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
  properties?: { name: string; value: string }[];
}
interface Sbom {
  specVersion: string;
  serialNumber: string;
  metadata: { timestamp: string; component: SbomComponent };
  components: SbomComponent[];
}

const property = (component: SbomComponent, name: string) => component.properties?.find((p) => p.name === `${PROPERTY_PREFIX}${name}`)?.value;
const hashOf = (component: SbomComponent, alg: string) => component.hashes?.find((hash) => hash.alg === alg)?.content;
const partOf = (sbom: Sbom, part: string) => sbom.components.filter((component) => property(component, 'part') === part);
const readSbom = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Sbom;

let commit: string;
let first: CleanBuild;
let second: CleanBuild;
let unpackDir: string;
const rootfsOf = new Map<ImagePlatform, string>();
let testBundle: SidecarBundle;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'buildah and podman run as root here (CI runs as root)');
  commit = git(['rev-parse', 'HEAD']);
  const lockChanged = git(['status', '--porcelain', '--', 'package.json', 'package-lock.json']);
  assert.equal(lockChanged, '', 'package.json or package-lock.json differ from HEAD: commit them (or stash) and run npm ci, so that node_modules is what the commit installs');
  // The bundle built here, with esbuild's metafile, for the commit the clones build (whatever HEAD is by then).
  process.env.CSI_LIVENESSPROBE_GIT_COMMIT = commit.slice(0, 12);
  testBundle = await bundleSidecar(fs.mkdtempSync(path.join('/var/tmp', 'lp-repro-bundle-')));
  workDirs.push(path.dirname(testBundle.bundlePath));
  delete process.env.CSI_LIVENESSPROBE_GIT_COMMIT;
  first = await cleanBuild('a', commit);
  second = await cleanBuild('second-clone-at-a-longer-path', commit);
  unpackDir = fs.mkdtempSync(path.join('/var/tmp', 'lp-repro-rootfs-'));
  workDirs.push(unpackDir);
  for (const platform of IMAGE_PLATFORMS) rootfsOf.set(platform, unpackImage(first.layoutDir, platform, unpackDir));
}, { timeout: 2 * BUILD_TIMEOUT_MS + 120_000 });

after(() => {
  for (const build of [first, second]) if (build) removeStorage(build.storageConf);
  for (const dir of workDirs) fs.rmSync(dir, { recursive: true, force: true });
});

test('two clean clones of the commit, built at different times in their own storage, give the same archive, digests, SBOMs and bundle', (t) => {
  const a = digestsOf(first.layoutDir);
  const b = digestsOf(second.layoutDir);
  const rows = [
    `builds: ${first.startedAt.toISOString()} in ${first.checkout} (${(first.durationMs / 1000).toFixed(1)} s) | ${second.startedAt.toISOString()} in ${second.checkout} (${(second.durationMs / 1000).toFixed(1)} s)`,
    `archive sha256: ${sha256(first.archive)} | ${sha256(second.archive)}`,
    `index: ${a.index} | ${b.index}`,
    ...IMAGE_PLATFORMS.flatMap((platform) => {
      const name = platformName(platform);
      const [pa, pb] = [a.platforms.get(name), b.platforms.get(name)];
      return [
        `${name} manifest: ${pa?.manifest} | ${pb?.manifest}`,
        `${name} config: ${pa?.config} | ${pb?.config}`,
        ...(pa?.layers ?? []).map((layer, i) => `${name} layer ${i}: ${layer} | ${pb?.layers[i]}`),
        `${name} SBOM sha256: ${sha256(first.sbomPath(platform))} | ${sha256(second.sbomPath(platform))}`,
      ];
    }),
    `bundle sha256: ${sha256(first.contextBundle)} | ${sha256(second.contextBundle)}`,
  ];
  for (const row of rows) t.diagnostic(`reproducible: ${row}`);
  assert.ok(second.startedAt.getTime() - first.startedAt.getTime() >= 1_000, 'the builds started at different times');

  assert.ok(fs.readFileSync(first.contextBundle).equals(fs.readFileSync(second.contextBundle)), `the bundles ${BUNDLE_FILE_NAME} differ`);
  for (const platform of IMAGE_PLATFORMS) {
    assert.ok(fs.readFileSync(first.sbomPath(platform)).equals(fs.readFileSync(second.sbomPath(platform))), `the ${platformName(platform)} SBOMs differ`);
  }
  const difference = layoutDifference(first.layoutDir, second.layoutDir) ?? tarDifference(fs.readFileSync(first.archive), fs.readFileSync(second.archive));
  assert.equal(difference, undefined, `first difference between the two builds: ${difference}`);
  assert.ok(fs.readFileSync(first.archive).equals(fs.readFileSync(second.archive)), 'the archives differ in bytes the entry walk does not see');
});

for (const platform of IMAGE_PLATFORMS) {
  const name = platformName(platform);

  test(`${name} layers: owners and modes as distroless has them (/home root's, only /home/nonroot 65532's; /tmp 1777; /root 0700), every other entry root's, no setuid or setgid file`, () => {
    const digests = digestsOf(first.layoutDir).platforms.get(name)!;
    const entries = digests.layers.flatMap((layer) => readTarEntries(gunzipSync(fs.readFileSync(path.join(first.layoutDir, 'blobs', ...layer.split(':'))))));
    const entry = (entryName: string) => entries.find((e) => e.name.replace(/^\.?\//, '').replace(/\/$/, '') === entryName);
    const ownerAndMode = (entryName: string) => {
      const found = entry(entryName);
      return found && `${found.uid}:${found.gid} ${(found.mode & 0o7777).toString(8)}`;
    };
    assert.equal(ownerAndMode('home'), '0:0 755', 'the nonroot user may not create or rename entries in /home');
    assert.equal(ownerAndMode('home/nonroot'), '65532:65532 755');
    assert.equal(ownerAndMode('tmp'), '0:0 1777');
    assert.equal(ownerAndMode('root'), '0:0 700');
    const otherOwners = entries.filter((e) => !/^(\.\/)?home\/nonroot\/?$/.test(e.name) && (e.uid !== 0 || e.gid !== 0)).map((e) => `${e.name} ${e.uid}:${e.gid}`);
    assert.deepEqual(otherOwners, [], 'entries owned by someone other than root');
    assert.deepEqual(entries.filter((e) => (e.mode & 0o6000) !== 0).map((e) => e.name), [], 'setuid or setgid entries');
  });

  test(`${name} SBOM: valid CycloneDX ${Spec.Version.v1dot6} (the library's strict JSON schema validator); inside the image at ${SBOM_IMAGE_PATH}, the same bytes as beside the archive`, async (t) => {
    const text = fs.readFileSync(first.sbomPath(platform), 'utf8');
    const verdict = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
    t.diagnostic(`sbom: ${name} validator verdict: ${verdict === null ? 'valid' : JSON.stringify(verdict)}`);
    assert.equal(verdict, null, `schema errors: ${JSON.stringify(verdict)}`);
    const inImage = fs.readFileSync(path.join(rootfsOf.get(platform)!, SBOM_IMAGE_PATH));
    assert.ok(inImage.equals(Buffer.from(text)), `${SBOM_IMAGE_PATH} in the ${name} image differs from ${first.sbomPath(platform)}`);
    const sbom = readSbom(first.sbomPath(platform));
    assert.equal(sbom.specVersion, '1.6');
    assert.match(sbom.serialNumber, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a v5 UUID (derived from the content, not random)');
    assert.equal(Date.parse(sbom.metadata.timestamp) / 1000, Number(git(['log', '-1', '--format=%ct', commit])), 'the timestamp is the commit\'s');
    t.diagnostic(`sbom: ${name} components: sidecar 1, node ${partOf(sbom, 'node').length}, debian ${partOf(sbom, 'debian').length}, npm ${partOf(sbom, 'npm').length}, base ${partOf(sbom, 'base').length}`);
    assert.equal(sbom.components.length, ['node', 'debian', 'npm'].reduce((sum, part) => sum + partOf(sbom, part).length, 0), 'every component is node, debian or npm');
  });

  test(`${name} SBOM: the sidecar (version, commit, the SHA-256 of ${SEA_IMAGE_PATH} as shipped, of the bundle and the SEA blob inside it) and Node.js (version, license, the SHA-256 of the release binary ${SEA_IMAGE_PATH} was made from)`, () => {
    const sbom = readSbom(first.sbomPath(platform));
    const rootfs = rootfsOf.get(platform)!;
    const executablePath = path.join(rootfs, SEA_IMAGE_PATH);
    const executable = fs.readFileSync(executablePath);
    const sidecar = sbom.metadata.component;
    assert.equal(sidecar.name, packageJson.name);
    assert.equal(sidecar.version, packageJson.version);
    assert.equal(property(sidecar, 'git-commit'), commit);
    assert.equal(property(sidecar, 'git-tree'), 'clean');
    assert.equal(property(sidecar, 'platform'), name);
    assert.equal(property(sidecar, 'path'), SEA_IMAGE_PATH);
    assert.equal(hashOf(sidecar, 'SHA-256'), sha256(executablePath), `the SHA-256 of ${SEA_IMAGE_PATH} as the image carries it`);
    assert.equal((fs.statSync(executablePath).mode & 0o777).toString(8), '755');
    assert.equal(property(sidecar, 'bundle-sha256'), sha256(first.contextBundle));
    assert.equal(property(sidecar, 'node-options'), SIDECAR_NODE_OPTIONS.join(' '));
    // The blob holds the bundle's text as is: the executable carries the bundle the SBOM hashes, inside the blob it hashes.
    const blobPath = path.join(first.checkout, 'dist', 'image', 'sea-work', `sea-${platform.architecture}.blob`);
    assert.equal(property(sidecar, 'sea-blob-sha256'), sha256(blobPath));
    const blob = fs.readFileSync(blobPath);
    assert.ok(executable.includes(blob), `${SEA_IMAGE_PATH} carries the blob`);
    assert.ok(blob.includes(fs.readFileSync(first.contextBundle)), 'the blob carries the bundle');
    if (platform === hostPlatform()) {
      // The commit the executable reports is the SBOM's (--version writes 12 hex digits).
      const version = execFileSync(executablePath, ['--version'], { encoding: 'utf8' });
      assert.match(version, new RegExp(`\\(git commit ${commit.slice(0, 12)}\\), node v[\\d.]+ ${name}\\n$`));
    }

    const [node] = partOf(sbom, 'node');
    assert.ok(node && partOf(sbom, 'node').length === 1, 'one Node.js component');
    const nodeVersion = fs.readFileSync(path.join(REPO_ROOT, '.node-version'), 'utf8').trim();
    assert.equal(node.version, nodeVersion);
    assert.equal(property(node, 'path'), SEA_IMAGE_PATH);
    const releaseBinary = path.join(first.checkout, 'dist', 'image', 'cache', `node-linux-${platform.nodeArch}-${nodeVersion}`, 'package', 'bin', 'node');
    assert.equal(hashOf(node, 'SHA-256'), sha256(releaseBinary), 'the SHA-256 of the release binary the build fetched');
    assert.equal(executable.readUInt16LE(18), platform.elfMachine, `${SEA_IMAGE_PATH} is the platform's binary`);
    assert.ok(Math.abs(executable.length - fs.statSync(releaseBinary).size) < 4 * 1024 * 1024, 'the release binary and the blob, nothing else of size');
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { license?: string; integrity?: string }> };
    const locked = lock.packages[`node_modules/node-linux-${platform.nodeArch}`];
    assert.deepEqual(node.licenses?.map((entry) => entry.license?.id), [locked.license]);
    assert.equal(property(node, 'npm-integrity'), locked.integrity);
  });

  test(`${name} SBOM: exactly the Debian packages whose files the image carries, each with name, version, architecture and the license its copyright file declares or NOASSERTION`, () => {
    const sbom = readSbom(first.sbomPath(platform));
    const rootfs = rootfsOf.get(platform)!;
    const debs = partOf(sbom, 'debian');
    assert.ok(debs.length > 0, 'the stand-in carries Debian packages');
    const owned = new Set<string>();
    const debDir = path.join(first.checkout, 'dist', 'image', 'cache', 'debian', platform.debianArch);
    for (const deb of debs) {
      const purl = `pkg:deb/debian/${encodeURIComponent(deb.name)}@${encodeURIComponent(deb.version!).replace(/%3A/g, ':')}?arch=${platform.debianArch}&distro=debian-12`;
      assert.equal(deb.purl, purl, `${deb.name}: name, version and architecture in the purl`);
      const file = path.join(debDir, `${deb.name}_${deb.version!.replace(/:/g, '%3a')}_${platform.debianArch}.deb`);
      assert.equal(hashOf(deb, 'SHA-256'), sha256(file), `${deb.name}: the SHA-256 of the .deb the build downloaded`);
      // The package's files, where the stand-in puts them: merged /usr, documentation left out.
      const files = execFileSync('dpkg-deb', ['--fsys-tarfile', file], { maxBuffer: 256 * 1024 * 1024 });
      const names = execFileSync('tar', ['-t', '-f', '-'], { input: files, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
        .split('\n')
        .map((entry) => entry.replace(/^\.\//, '').replace(/\/$/, '').replace(/^(lib|lib64|bin|sbin)\//, 'usr/$1/'))
        .filter((entry) => entry !== '' && !LEFT_OUT_OF_PACKAGES.test(entry));
      const carried = names.filter((entry) => fs.existsSync(path.join(rootfs, entry)) && !fs.lstatSync(path.join(rootfs, entry)).isDirectory());
      assert.ok(carried.length > 0, `the image carries none of ${deb.name}'s files, yet the SBOM lists it`);
      for (const entry of carried) owned.add(entry);

      let copyright: string | undefined;
      try {
        copyright = execFileSync('tar', ['-xO', '-f', '-', `./usr/share/doc/${deb.name}/copyright`], { input: files, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'ignore'] });
      } catch {
        copyright = undefined; // none of its own (a link to another package's documentation)
      }
      if (copyright !== undefined && DEP5_FIRST_LINE.test(copyright.split('\n')[0])) {
        assert.ok((deb.licenses ?? []).length > 0, `${deb.name}: its copyright file is machine-readable, the SBOM names no license`);
      } else {
        assert.equal(deb.licenses, undefined, `${deb.name}: no machine-readable copyright file, yet the SBOM names a license`);
        assert.match(property(deb, 'license') ?? '', /^NOASSERTION: /, `${deb.name}: NOASSERTION says why`);
      }
    }
    // Each file once, by the path it is stored at: not again through the merged-/usr links (lib -> usr/lib).
    const storedAt = (entry: string) => fs.realpathSync(path.dirname(path.join(rootfs, entry))) === path.dirname(path.join(rootfs, entry));
    const imageFiles = (fs.readdirSync(rootfs, { recursive: true }) as string[]).filter((entry) => storedAt(entry) && !fs.lstatSync(path.join(rootfs, entry)).isDirectory());
    const unaccounted = imageFiles.filter((entry) => !owned.has(entry) && !NOT_FROM_DEBIAN.has(entry));
    assert.deepEqual(unaccounted, [], 'files in the image that no listed Debian package provides and the build did not write');
  });

  test(`${name} SBOM: exactly the npm packages esbuild compiled into the bundle (its metafile), with the lock's version, license and integrity`, () => {
    const sbom = readSbom(first.sbomPath(platform));
    const rootfs = rootfsOf.get(platform)!;
    // The bundle is inside /livenessprobe (the SEA blob holds its text as is): the build's context copy, checked to be in there.
    const bundleText = fs.readFileSync(first.contextBundle, 'utf8');
    assert.ok(fs.readFileSync(path.join(rootfs, SEA_IMAGE_PATH)).includes(Buffer.from(bundleText)), `${SEA_IMAGE_PATH} carries the bundle of the build's context`);
    assert.ok(fs.readFileSync(testBundle.bundlePath).equals(Buffer.from(bundleText)), 'the bundle built here is the image\'s, so its metafile describes the image\'s bundle (commit the worktree\'s changes if not)');
    const packageDir = (input: string) => /^((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
    const fromMetafile = [...new Set(Object.keys(testBundle.metafile.inputs).map(packageDir).filter((dir): dir is string => dir !== undefined))].sort();
    // A second witness: the module comments esbuild writes above each module it compiled in.
    const fromComments = [...new Set([...bundleText.matchAll(/^\/\/ (\S+)$/gm)].map((match) => packageDir(match[1])).filter((dir): dir is string => dir !== undefined))].sort();
    assert.deepEqual(fromComments, fromMetafile);
    const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string; license?: string; integrity: string; dev?: boolean }> };
    const expected = fromMetafile.map((dir) => {
      const { name } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, dir, 'package.json'), 'utf8')) as { name: string };
      const locked = lock.packages[dir];
      assert.ok(!locked.dev, `${dir} is bundled but a development dependency`);
      return { name, version: locked.version, license: locked.license, sha512: Buffer.from(locked.integrity.replace(/^sha512-/, ''), 'base64').toString('hex') };
    });
    const listed = partOf(sbom, 'npm').map((component) => ({
      name: component.group ? `${component.group}/${component.name}` : component.name,
      version: component.version,
      license: component.licenses?.[0]?.license?.id ?? component.licenses?.[0]?.expression,
      sha512: hashOf(component, 'SHA-512'),
    }));
    assert.deepEqual(listed.sort((x, y) => x.name.localeCompare(y.name)), expected.sort((x, y) => x.name.localeCompare(y.name)));
  });
}
