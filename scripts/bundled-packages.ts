// The npm packages compiled into the bundle, as esbuild's metafile shows them (every input file under
// node_modules/ names its package's folder), with what package-lock.json records of each: version,
// license, integrity. The license file (scripts/bundle.ts) and the SBOM (scripts/image/sbom.ts) list
// exactly these, so a package the bundler left out (prom-client's tdigest, OpenTelemetry's API) is in
// neither, and one it pulled in is in both.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Metafile } from 'esbuild';

const ROOT = path.resolve(__dirname, '..', '..');

/** One npm package with code in the bundle. */
export interface BundledPackage {
  /** Its folder as package-lock.json keys it: "node_modules/prom-client", "node_modules/a/node_modules/@s/b". */
  readonly lockPath: string;
  /** "prom-client", "@scope/name". */
  readonly name: string;
  readonly version: string;
  /** package-lock.json's license field (an SPDX expression as the package declares it), or undefined when it has none. */
  readonly license: string | undefined;
  /** package-lock.json's integrity of the tarball ("sha512-<base64>"). */
  readonly integrity: string;
}

interface LockEntry {
  version?: string;
  license?: string;
  integrity?: string;
  dev?: boolean;
}

/** The package folders (relative to the repository, lock-style) of the metafile's inputs under node_modules, sorted. */
export function bundledPackagePaths(metafile: Metafile): string[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    // The last node_modules/<name> or node_modules/@scope/<name> of the path is the package's own folder.
    const match = /^((?:.*\/)?node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) dirs.add(match[1]);
  }
  return [...dirs].sort();
}

/**
 * The bundled packages with their lock entries. Throws when a package is not in package-lock.json,
 * is a development dependency there (the image would ship what `npm ci --omit=dev` leaves out), or
 * differs from its installed package.json (node_modules is not what the lock says: run npm ci).
 */
export function bundledPackages(metafile: Metafile, root = ROOT): BundledPackage[] {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  return bundledPackagePaths(metafile).map((lockPath): BundledPackage => {
    const installed = JSON.parse(fs.readFileSync(path.join(root, lockPath, 'package.json'), 'utf8')) as { name: string; version: string };
    const entry = lock.packages[lockPath];
    if (!entry?.version || !entry.integrity) throw new Error(`${lockPath} is bundled but package-lock.json has no version and integrity for it; run npm install and commit the lock`);
    if (entry.dev) throw new Error(`${lockPath} (${installed.name}) is bundled but package-lock.json marks it a development dependency; move it to package.json's dependencies`);
    if (entry.version !== installed.version) throw new Error(`${lockPath}: installed ${installed.version}, package-lock.json says ${entry.version}; run npm ci`);
    return { lockPath, name: installed.name, version: entry.version, license: entry.license, integrity: entry.integrity };
  });
}
