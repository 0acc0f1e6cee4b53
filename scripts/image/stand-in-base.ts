// A local stand-in for the Dockerfile's base image (gcr.io/distroless/nodejs24-debian12:nonroot),
// for machines that reach no container registry. It is assembled from the same parts the real
// image is made of, each from a package source this machine does reach:
//
//   /nodejs/bin/node       the official Node.js binary of .node-version: npm package node-linux-<arch>,
//                          which `npm ci` installs (devDependency "node")
//   glibc, libstdc++       the files of Debian 12's packages libc6, libgcc-s1 and libstdc++6 installed
//                          on this machine (distroless takes the same Debian 12 packages)
//   /etc/passwd, /etc/group  root, nobody and nonroot (65532), home /home/nonroot, as distroless has them
//
// What distroless has besides and the stand-in leaves out, since Node.js and the sidecar never read
// them: ca-certificates, tzdata, netbase (/etc/services, /etc/protocols), the package status files.
//
// The stand-in carries the label STAND_IN_LABEL naming the versions of its parts; `npm run image`
// reassembles it when one of them changes and leaves an image pulled from the registry (no label) alone.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runContainerTool } from './container-tools';

/** The label that marks a stand-in base; its value lists the versions of the parts it was made of. */
export const STAND_IN_LABEL = 'csi-livenessprobe-ts.stand-in-base';
/** The Debian 12 packages whose files make up the C and C++ runtime (libstdc++6 needs libgcc-s1). */
const DEBIAN_RUNTIME_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'] as const;
/** Package files no program reads at run time (documentation, debugger and compiler helpers). */
const LEFT_OUT = /^\/usr\/share\/(doc|lintian|gdb|gcc)(\/|$)/;
const NONROOT_UID = 65532;

const PASSWD = ['root:x:0:0:root:/root:/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin', `nonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin`];
const GROUP = ['root:x:0:', 'nobody:x:65534:', `tty:x:5:`, 'staff:x:50:', `nonroot:x:${NONROOT_UID}:`];

/** The Node.js version the repository ships (.node-version). */
export function shippedNodeVersion(): string {
  return fs.readFileSync(path.join(ROOT, '.node-version'), 'utf8').trim();
}

/**
 * The official Node.js binary of .node-version as npm installed it (package node-linux-<arch>, an
 * optional dependency pinned at .node-version). Throws when it is missing or reports another version.
 */
export function officialNodeBinary(): string {
  const version = shippedNodeVersion();
  const packageName = `node-linux-${process.arch}`;
  let manifest: string;
  try {
    manifest = require.resolve(`${packageName}/package.json`, { paths: [ROOT] });
  } catch (err) {
    throw new Error(`${packageName} is not installed; run npm ci (package.json's optionalDependencies pin it at .node-version)`, { cause: err });
  }
  const binary = path.join(path.dirname(manifest), 'bin', 'node');
  const reported = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (reported !== `v${version}`) throw new Error(`${binary} is ${reported}, .node-version says ${version}; run npm ci`);
  return binary;
}

/** "libc6 2.36-9+deb12u14; ..." for this machine's packages; throws unless this is Debian 12 with them installed. */
function debianRuntimeVersions(): string {
  const debianVersion = fs.existsSync('/etc/debian_version') ? fs.readFileSync('/etc/debian_version', 'utf8').trim() : 'not Debian';
  if (!/^12\./.test(debianVersion)) {
    throw new Error(`the stand-in base takes glibc and libstdc++ from this machine's Debian 12 packages, but /etc/debian_version is ${debianVersion}`);
  }
  return DEBIAN_RUNTIME_PACKAGES.map((name) => `${name} ${execFileSync('dpkg-query', ['-W', '-f=${Version}', name], { encoding: 'utf8' })}`).join('; ');
}

/** Copies one package file, a symlink as a symlink, keeping its mode. */
function copyPackageEntry(source: string, rootfs: string): void {
  const stat = fs.lstatSync(source, { throwIfNoEntry: false });
  if (!stat || stat.isDirectory()) return; // directories are made as their files need them
  // Debian 12 merges /lib into /usr/lib: place the file where it really is, the rootfs has the same links.
  const target = path.join(rootfs, fs.realpathSync(path.dirname(source)), path.basename(source));
  if (fs.existsSync(target)) return; // the /lib -> usr/lib links, made by assembleRootfs
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
  else fs.copyFileSync(source, target);
  if (!stat.isSymbolicLink()) fs.chmodSync(target, stat.mode & 0o7777);
}

/** Writes the stand-in's file tree into `rootfs` (an empty folder); `home` becomes /home/nonroot. */
function assembleRootfs(rootfs: string, nodeBinary: string): void {
  for (const [link, target] of [['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['bin', 'usr/bin'], ['sbin', 'usr/sbin']]) {
    fs.mkdirSync(path.join(rootfs, target), { recursive: true });
    fs.symlinkSync(target, path.join(rootfs, link));
  }
  const files = execFileSync('dpkg-query', ['-L', ...DEBIAN_RUNTIME_PACKAGES], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith('/') && !LEFT_OUT.test(line));
  for (const file of new Set(files)) copyPackageEntry(file, rootfs);

  fs.mkdirSync(path.join(rootfs, 'nodejs', 'bin'), { recursive: true });
  fs.copyFileSync(nodeBinary, path.join(rootfs, 'nodejs', 'bin', 'node'));
  fs.chmodSync(path.join(rootfs, 'nodejs', 'bin', 'node'), 0o755);
  fs.copyFileSync(path.join(path.dirname(nodeBinary), '..', 'LICENSE'), path.join(rootfs, 'nodejs', 'LICENSE'));

  fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), `${PASSWD.join('\n')}\n`);
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), `${GROUP.join('\n')}\n`);
  fs.copyFileSync('/usr/lib/os-release', path.join(rootfs, 'etc', 'os-release'));
  fs.mkdirSync(path.join(rootfs, 'tmp'));
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.mkdirSync(path.join(rootfs, 'root'), { mode: 0o700 });
}

/** The image ID of `image` in local storage and its STAND_IN_LABEL (undefined when unlabelled); null when there is no such image. */
export function inspectLocalImage(image: string): { id: string; standIn: string | undefined } | null {
  let inspected: string;
  try {
    inspected = runContainerTool('buildah', ['inspect', '--type', 'image', image]);
  } catch {
    return null;
  }
  const parsed = JSON.parse(inspected) as { FromImageID: string; OCIv1: { config?: { Labels?: Record<string, string> } } };
  return { id: parsed.FromImageID, standIn: parsed.OCIv1.config?.Labels?.[STAND_IN_LABEL] };
}

/** Removes an image replaced under its name; one still used by a container or another image stays. */
export function removeReplacedImage(id: string): void {
  try {
    runContainerTool('buildah', ['rmi', id]);
  } catch {
    // in use: left for `buildah rmi --prune`
  }
}

export type BaseSource = 'pulled' | 'stand-in, reused' | 'stand-in, assembled';

/**
 * Makes sure `baseImage` is in local storage: an image pulled from the registry is used as it is;
 * otherwise the stand-in is (re)assembled unless one made of the same parts is there.
 * Returns where the base came from. Throws when a part is missing (see officialNodeBinary).
 */
export function ensureBaseImage(baseImage: string): BaseSource {
  const nodeBinary = officialNodeBinary();
  const parts = `node ${shippedNodeVersion()} (npm node-linux-${process.arch}); ${debianRuntimeVersions()}`;
  const existing = inspectLocalImage(baseImage);
  if (existing && existing.standIn === undefined) return 'pulled';
  if (existing?.standIn === parts) return 'stand-in, reused';

  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'stand-in-base-'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'stand-in-home-'));
  let container = '';
  try {
    assembleRootfs(rootfs, nodeBinary);
    container = runContainerTool('buildah', ['from', '--pull=never', 'scratch']);
    runContainerTool('buildah', ['copy', '--quiet', container, `${rootfs}/`, '/']);
    runContainerTool('buildah', ['copy', '--quiet', '--chown', `${NONROOT_UID}:${NONROOT_UID}`, container, `${home}/`, '/home/nonroot']);
    runContainerTool('buildah', [
      'config',
      '--user', String(NONROOT_UID),
      '--workingdir', '/home/nonroot',
      '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--entrypoint', '["/nodejs/bin/node"]',
      '--cmd', '',
      '--label', `${STAND_IN_LABEL}=${parts}`,
      '--label', `org.opencontainers.image.description=local stand-in for ${baseImage}, assembled by npm run image from ${parts}`,
      container,
    ]);
    runContainerTool('buildah', ['commit', '--quiet', '--rm', container, baseImage]);
    container = '';
    if (existing) removeReplacedImage(existing.id);
  } finally {
    if (container) runContainerTool('buildah', ['rm', container]);
    fs.rmSync(rootfs, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
  return 'stand-in, assembled';
}
