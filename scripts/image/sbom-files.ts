// The SBOM files of a build: the facts scripts/image/sbom.ts lists, gathered from what the build made
// and used (the bundle, package.json, git, each platform's base), written into the build context as
// sbom/<architecture>.cdx.json, where the Dockerfile's COPY takes its platform's one.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BundledPackage } from '../bundled-packages';
import { ROOT } from './container-tools';
import { debianLicense } from './debian-copyright';
import { ImagePlatform } from './platforms';
import { BaseFacts, ExecutableFacts, imageSbom, sbomContextFile, serializeSbom, SidecarFacts } from './sbom';
import type { StandInBase } from './stand-in-base';

/**
 * What the SBOM needs of the bundle scripts/bundle.ts wrote (its SidecarBundle has these fields;
 * named here so that this module does not import the bundler that imports it).
 */
export interface BundleContents {
  readonly bundlePath: string;
  /** The npm packages with code in the bundle. */
  readonly packages: readonly BundledPackage[];
}

/** SHA-256 of a file, hex. */
export function fileSha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** `git <args>` in the repository, trimmed, or undefined outside a git checkout. */
function git(args: readonly string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/**
 * The sidecar as bundled: package.json's name, version and license; the commit in the order
 * scripts/bundle.ts takes it (CSI_LIVENESSPROBE_GIT_COMMIT when set, else git rev-parse HEAD, here in
 * full), so --version and the SBOM name the same one; whether files differ from it (git status,
 * ignored files such as dist/ aside); the bundle's SHA-256.
 */
export function sidecarFacts(bundle: BundleContents): SidecarFacts {
  const { name, version, license } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string };
  const given = process.env.CSI_LIVENESSPROBE_GIT_COMMIT;
  const commit = given !== undefined && given !== '' ? given : git(['rev-parse', 'HEAD']);
  const status = commit === undefined ? undefined : git(['status', '--porcelain']);
  return {
    name,
    version,
    license,
    gitCommit: commit ?? '',
    gitTreeModified: status === undefined ? false : status !== '',
    bundleSha256: fileSha256(bundle.bundlePath),
  };
}

/** What the SBOM says of a platform's base: a stand-in's parts, or a pulled `baseImage` it cannot list. */
export function baseFacts(baseImage: string, standIn: StandInBase | undefined): BaseFacts {
  if (!standIn) return { kind: 'pulled', image: baseImage };
  return {
    kind: 'stand-in',
    image: baseImage,
    debianPackages: standIn.debianPackages.map((deb) => ({ deb, license: debianLicense(deb), debSha256: fileSha256(deb.debPath) })),
  };
}

/** Writes `platform`'s SBOM into the build context `contextDir`; returns its path. */
export function writeContextSbom(
  contextDir: string,
  platform: ImagePlatform,
  bundle: BundleContents,
  sidecar: SidecarFacts,
  executable: ExecutableFacts,
  base: BaseFacts,
  sourceDateEpochS: number,
): string {
  const file = path.join(contextDir, sbomContextFile(platform));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, serializeSbom(imageSbom({ platform, sourceDateEpochS, sidecar, executable, npmPackages: bundle.packages, base })));
  return file;
}
