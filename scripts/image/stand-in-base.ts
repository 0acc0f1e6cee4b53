// A local stand-in for the Dockerfile's base image (gcr.io/distroless/cc-debian12:nonroot), one per
// image platform, for machines that reach no container registry. It is assembled from the same parts
// the real image is made of, each from a package source this machine does reach:
//
//   glibc, libstdc++       the files of Debian 12's packages libc6, libgcc-s1 and libstdc++6 for the
//                          platform's architecture (distroless takes the same Debian 12 packages;
//                          scripts/image/debian-packages.ts)
//   /etc/passwd, /etc/group  root, nobody and nonroot (65532), home /home/nonroot, as distroless has them
//
// What distroless has besides and the stand-in leaves out, since Node.js and the sidecar never read
// them: ca-certificates, tzdata, netbase (/etc/services, /etc/protocols), the package status files.
// Like distroless cc, it has no Node.js: the image's is inside /livenessprobe (scripts/image/sea.ts).
//
// Assembling copies files only, so a foreign architecture needs no emulation. Every file time is the
// build's SOURCE_DATE_EPOCH (buildah commit --timestamp), so the same parts give the same layer.
// Each stand-in is stored under its own name (standInName) with the label STAND_IN_LABEL naming its
// parts, and is reassembled only when one of them changes.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, runContainerTool } from './container-tools';
import { DebianPackage, fetchRuntimePackages, unpackDebianPackage } from './debian-packages';
import { ImagePlatform } from './platforms';

/** The label that marks a stand-in base; its value lists the parts it was made of. */
export const STAND_IN_LABEL = 'csi-livenessprobe-ts.stand-in-base';
/** Package files no program reads at run time (documentation, debugger and compiler helpers). */
const LEFT_OUT = /^usr\/share\/(doc|lintian|gdb|gcc)(\/|$)/;
/** Debian 12 merges these into /usr: the packages' files under them go to usr/<dir>, the rootfs has links. */
const MERGED_USR_DIRS = ['lib', 'lib64', 'bin', 'sbin'] as const;
const NONROOT_UID = 65532;
/**
 * Where a stand-in is assembled, one folder per architecture, and the name of the buildah working
 * container it is committed from: both fixed, so that a build interrupted there (Ctrl-C, a killed CI
 * job; no finally runs) leaves nothing the next build does not clear (clearInterruptedAssembly).
 */
const WORK_DIR = path.join(ROOT, 'dist', 'image', 'stand-in-work');
export function standInWorkDir(platform: ImagePlatform): string {
  return path.join(WORK_DIR, platform.architecture);
}
export function standInContainerName(platform: ImagePlatform): string {
  return `csi-livenessprobe-ts-stand-in-${platform.architecture}`;
}

const PASSWD = ['root:x:0:0:root:/root:/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin', `nonroot:x:${NONROOT_UID}:${NONROOT_UID}:nonroot:/home/nonroot:/sbin/nologin`];
const GROUP = ['root:x:0:', 'nobody:x:65534:', `tty:x:5:`, 'staff:x:50:', `nonroot:x:${NONROOT_UID}:`];
/** Debian 12's os-release, as base-files writes it (the same for every 12.x point release). */
const OS_RELEASE = [
  'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
  'NAME="Debian GNU/Linux"',
  'VERSION_ID="12"',
  'VERSION="12 (bookworm)"',
  'VERSION_CODENAME=bookworm',
  'ID=debian',
  'HOME_URL="https://www.debian.org/"',
  'SUPPORT_URL="https://www.debian.org/support"',
  'BUG_REPORT_URL="https://bugs.debian.org/"',
];

/** A stand-in base in local storage, and what it is made of. */
export interface StandInBase {
  /** Its name in local storage: "localhost/csi-livenessprobe-ts-stand-in-base:arm64". */
  readonly name: string;
  /** Image ID (the digest of its configuration). */
  readonly id: string;
  readonly debianPackages: readonly DebianPackage[];
  readonly source: 'stand-in, reused' | 'stand-in, assembled';
}

/** The local name of `platform`'s stand-in. */
export function standInName(platform: ImagePlatform): string {
  return `localhost/csi-livenessprobe-ts-stand-in-base:${platform.architecture}`;
}

/** Moves a package's path into the merged-/usr layout: "lib/x86_64-linux-gnu/libc.so.6" -> "usr/lib/...". */
function mergedUsrPath(relative: string): string {
  const [top, ...rest] = relative.split('/');
  return (MERGED_USR_DIRS as readonly string[]).includes(top) ? ['usr', top, ...rest].join('/') : relative;
}

/** Copies the unpacked package tree `from` into `rootfs`: files and links, modes kept, merged /usr, LEFT_OUT dropped. */
function copyPackageTree(from: string, rootfs: string): void {
  for (const entry of fs.readdirSync(from, { recursive: true, withFileTypes: true })) {
    if (entry.isDirectory()) continue; // directories are made as their files need them
    const source = path.join(entry.parentPath, entry.name);
    const relative = mergedUsrPath(path.relative(from, source));
    if (LEFT_OUT.test(relative)) continue;
    const target = path.join(rootfs, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (entry.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(source), target);
    else {
      fs.copyFileSync(source, target);
      fs.chmodSync(target, fs.statSync(source).mode & 0o7777);
    }
  }
}

/** Writes the stand-in's file tree into `rootfs` (an empty folder), unpacking packages in `scratch`. */
function assembleRootfs(rootfs: string, scratch: string, packages: readonly DebianPackage[]): void {
  for (const dir of MERGED_USR_DIRS) {
    fs.mkdirSync(path.join(rootfs, 'usr', dir), { recursive: true });
    fs.symlinkSync(`usr/${dir}`, path.join(rootfs, dir));
  }
  for (const deb of packages) {
    const unpacked = fs.mkdtempSync(path.join(scratch, `${deb.name}-`));
    try {
      unpackDebianPackage(deb, unpacked);
      copyPackageTree(unpacked, rootfs);
    } finally {
      fs.rmSync(unpacked, { recursive: true, force: true });
    }
  }

  fs.mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'etc', 'passwd'), `${PASSWD.join('\n')}\n`);
  fs.writeFileSync(path.join(rootfs, 'etc', 'group'), `${GROUP.join('\n')}\n`);
  fs.writeFileSync(path.join(rootfs, 'etc', 'os-release'), `${OS_RELEASE.join('\n')}\n`);
  // /home is root's, as in Debian and distroless; only /home/nonroot is the user's (copied with --chown).
  fs.mkdirSync(path.join(rootfs, 'home'));
  fs.chmodSync(path.join(rootfs, 'home'), 0o755);
  fs.mkdirSync(path.join(rootfs, 'tmp'));
  fs.chmodSync(path.join(rootfs, 'tmp'), 0o1777);
  fs.mkdirSync(path.join(rootfs, 'root'), { mode: 0o700 });
  fs.chmodSync(path.join(rootfs, 'root'), 0o700);
}

/** The image ID of `image` in local storage and its STAND_IN_LABEL (undefined when unlabelled); null when there is no such image. */
export function inspectLocalImage(image: string): { id: string; standIn: string | undefined; architecture: string } | null {
  let inspected: string;
  try {
    inspected = runContainerTool('buildah', ['inspect', '--type', 'image', image]);
  } catch {
    return null;
  }
  const parsed = JSON.parse(inspected) as { FromImageID: string; OCIv1: { architecture?: string; config?: { Labels?: Record<string, string> } } };
  return { id: parsed.FromImageID, standIn: parsed.OCIv1.config?.Labels?.[STAND_IN_LABEL], architecture: parsed.OCIv1.architecture ?? '' };
}

/** Removes an image replaced under its name; one still used by a container or another image stays. */
export function removeReplacedImage(id: string): void {
  try {
    runContainerTool('buildah', ['rmi', id]);
  } catch {
    // in use: left for `buildah rmi --prune`
  }
}

/** Removes what an interrupted assembly of `platform`'s stand-in left: its working container and its work folder. */
export function clearInterruptedAssembly(platform: ImagePlatform): void {
  try {
    runContainerTool('buildah', ['rm', standInContainerName(platform)]);
  } catch {
    // no such container: the last assembly finished
  }
  fs.rmSync(standInWorkDir(platform), { recursive: true, force: true });
}

/**
 * Makes sure `platform`'s stand-in for `baseImage` is in local storage, made of today's parts with
 * file times `sourceDateEpochS`: reused when one of the same parts is there, else (re)assembled.
 * Throws when a part cannot be had (see fetchRuntimePackages) or buildah fails.
 */
export function ensureStandInBase(baseImage: string, platform: ImagePlatform, sourceDateEpochS: number): StandInBase {
  const debianPackages = fetchRuntimePackages(platform);
  const parts = [
    ...debianPackages.map((deb) => `${deb.name} ${deb.version} ${deb.architecture}`),
    `SOURCE_DATE_EPOCH ${sourceDateEpochS}`,
  ].join('; ');
  const name = standInName(platform);
  const existing = inspectLocalImage(name);
  if (existing?.standIn === parts) return { name, id: existing.id, debianPackages, source: 'stand-in, reused' };

  clearInterruptedAssembly(platform);
  const work = standInWorkDir(platform);
  const rootfs = path.join(work, 'rootfs');
  const home = path.join(work, 'home');
  const scratch = path.join(work, 'unpacked');
  for (const dir of [rootfs, home, scratch]) fs.mkdirSync(dir, { recursive: true });
  let container = '';
  try {
    assembleRootfs(rootfs, scratch, debianPackages);
    container = runContainerTool('buildah', ['from', '--pull=never', '--name', standInContainerName(platform), 'scratch']);
    runContainerTool('buildah', ['copy', '--quiet', container, `${rootfs}/`, '/']);
    runContainerTool('buildah', ['copy', '--quiet', '--chown', `${NONROOT_UID}:${NONROOT_UID}`, container, `${home}/`, '/home/nonroot']);
    runContainerTool('buildah', [
      'config',
      '--os', platform.os,
      '--arch', platform.architecture,
      '--user', String(NONROOT_UID),
      '--workingdir', '/home/nonroot',
      '--env', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--cmd', '',
      '--label', `${STAND_IN_LABEL}=${parts}`,
      '--label', `org.opencontainers.image.description=local stand-in for ${baseImage} (${platform.os}/${platform.architecture}), assembled by npm run image from ${parts}`,
      container,
    ]);
    runContainerTool('buildah', ['commit', '--quiet', '--rm', '--timestamp', String(sourceDateEpochS), '--identity-label=false', container, name]);
    container = '';
    if (existing) removeReplacedImage(existing.id);
  } finally {
    if (container) runContainerTool('buildah', ['rm', container]);
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { name, id: inspectLocalImage(name)!.id, debianPackages, source: 'stand-in, assembled' };
}
