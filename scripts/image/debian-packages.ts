// The Debian 12 packages whose files make up the stand-in base's C and C++ runtime, fetched for one
// architecture with `apt-get download` (apt checks each file against the signed archive index) and
// unpacked with `dpkg-deb -x`. Every architecture takes the versions this machine has installed, so
// the images of one build carry the same glibc and libstdc++; a foreign architecture needs
// `dpkg --add-architecture <arch>` and `apt-get update` first (.ci/run does both).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './container-tools';
import { ImagePlatform } from './platforms';

/** The packages of the C and C++ runtime Node.js links against (libstdc++6 needs libgcc-s1). */
export const DEBIAN_RUNTIME_PACKAGES = ['libc6', 'libgcc-s1', 'libstdc++6'] as const;
/** Where downloaded .deb files are kept between builds, one folder per architecture. */
const CACHE_DIR = path.join(ROOT, 'dist', 'image', 'cache', 'debian');
const APT_TIMEOUT_MS = 300_000;

/** One downloaded package. */
export interface DebianPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** The .deb file. */
  readonly debPath: string;
}

/** Throws unless this machine is Debian 12 (the stand-in's packages are Debian 12's, as distroless's are). */
function requireDebian12(): void {
  const debianVersion = fs.existsSync('/etc/debian_version') ? fs.readFileSync('/etc/debian_version', 'utf8').trim() : 'not Debian';
  if (!/^12\./.test(debianVersion)) {
    throw new Error(`the stand-in base takes glibc and libstdc++ from Debian 12's packages through this machine's apt, but /etc/debian_version is ${debianVersion}`);
  }
}

/** The installed version of each runtime package on this machine. */
export function installedRuntimeVersions(): Map<string, string> {
  requireDebian12();
  return new Map(DEBIAN_RUNTIME_PACKAGES.map((name) => [name, execFileSync('dpkg-query', ['-W', '-f=${Version}', `${name}:${hostDebianArch()}`], { encoding: 'utf8' })]));
}

function hostDebianArch(): string {
  return execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
}

/**
 * Downloads (or reuses) DEBIAN_RUNTIME_PACKAGES for `platform` at the versions installed here.
 * Throws naming the command to run when apt does not know the architecture or the version.
 */
export function fetchRuntimePackages(platform: ImagePlatform): DebianPackage[] {
  const versions = installedRuntimeVersions();
  const dir = path.join(CACHE_DIR, platform.debianArch);
  fs.mkdirSync(dir, { recursive: true });
  return DEBIAN_RUNTIME_PACKAGES.map((name) => {
    const version = versions.get(name)!;
    // dpkg's file name: the epoch's colon is written %3a.
    const debPath = path.join(dir, `${name}_${version.replace(/:/g, '%3a')}_${platform.debianArch}.deb`);
    if (!fs.existsSync(debPath)) {
      try {
        execFileSync('apt-get', ['download', '-q', `${name}:${platform.debianArch}=${version}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: APT_TIMEOUT_MS });
      } catch (err) {
        const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
        const hint = downloadFailureHint(name, platform.debianArch, version, aptVersions(name, platform.debianArch), platform.debianArch !== hostDebianArch());
        throw new Error(`apt-get download ${name}:${platform.debianArch}=${version} failed: ${stderr}; ${hint}`, { cause: err });
      }
      if (!fs.existsSync(debPath)) throw new Error(`apt-get download ${name}:${platform.debianArch}=${version} wrote no ${debPath}`);
    }
    return { name, version, architecture: platform.debianArch, debPath };
  });
}

/** The versions of `name`:`arch` apt's package lists hold (apt-cache madison), newest first; none when apt does not know the architecture. */
export function aptVersions(name: string, arch: string): string[] {
  const listed = execFileSync('apt-cache', ['madison', `${name}:${arch}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return [...new Set(listed.split('\n').map((line) => line.split('|')[1]?.trim()).filter((v): v is string => !!v))];
}

/**
 * What to do when `apt-get download name:arch=version` failed, from the versions apt's lists hold:
 * no lists for the architecture (add it), lists without the version installed here (Debian's mirrors
 * keep only the newest update, so this machine's packages are behind: upgrade them), or the version
 * listed (the mirror or network failed).
 */
export function downloadFailureHint(name: string, arch: string, version: string, available: readonly string[], foreign: boolean): string {
  if (available.length === 0) {
    return foreign ? `apt's lists have no ${name}:${arch}: run dpkg --add-architecture ${arch} && apt-get update` : `apt's lists have no ${name}:${arch}: run apt-get update`;
  }
  if (!available.includes(version)) {
    return (
      `apt's lists have ${name}:${arch} at ${available.join(', ')}, not at ${version}, the version installed on this machine, which every platform's image takes: ` +
      `upgrade this machine's packages (apt-get update && apt-get install --only-upgrade ${DEBIAN_RUNTIME_PACKAGES.join(' ')}) and build again`
    );
  }
  return `apt's lists have ${name}:${arch} at ${version}, so the mirror or the network failed: run apt-get update and build again`;
}

/** Unpacks `deb` into `dir` (dpkg-deb -x: the package's files as its data.tar has them). */
export function unpackDebianPackage(deb: DebianPackage, dir: string): void {
  execFileSync('dpkg-deb', ['-x', deb.debPath, dir]);
}
