// `npm run image`: the container image from the repository's Dockerfile for every platform of
// IMAGE_PLATFORMS (linux/amd64, linux/arm64), built with buildah and no registry, written as one
// OCI archive: an image index under one fully qualified reference.
//
//   node dist/scripts/image/build.js [--reference=<registry>/<path>:<tag>] [--pull-base]
//
// As upstream builds its images, the artifact is made outside the image (the bundle and its
// license texts, scripts/bundle.ts; from the bundle, one /livenessprobe per platform,
// scripts/image/sea.ts) and the Dockerfile copies it into the runtime base, the one image the build
// needs. The Dockerfile has no RUN, so a foreign platform's image is built without
// emulation. By default the base is a local stand-in assembled per platform
// (scripts/image/stand-in-base.ts) and replaces the FROM image (buildah build --from); with
// --pull-base, buildah pulls the real base for each platform from its registry instead.
//
// Reproducible: every time written (image creation, history, file times in the layers, the archive's
// entries) is SOURCE_DATE_EPOCH, taken from the environment or else from the commit (git log -1
// --format=%ct); buildah's identity label (its version) is left out; the archive is tarred by
// writeLayoutArchive. So the same commit, with the same Node.js and Debian packages, gives the
// same bytes (test/runtime/reproducible-build.test.ts builds twice from clean clones and compares).
//
// SBOM: each platform's image carries its CycloneDX SBOM at SBOM_IMAGE_PATH (scripts/image/sbom.ts),
// written into the build context before the build, and the same file is written beside the archive as
// <archive name>.<architecture>.cdx.json.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleSidecar, SIDECAR_NODE_OPTIONS } from '../bundle';
import { requireContainerTools, ROOT, runContainerTool } from './container-tools';
import { DOCKERFILE, dockerfileBaseImage } from './dockerfile';
import { Layout, LayoutImage, readLayout, writeLayoutArchive } from './oci-layout';
import { IMAGE_PLATFORMS, ImagePlatform, platformName } from './platforms';
import { SBOM_IMAGE_PATH } from './sbom';
import { baseFacts, sidecarFacts, writeContextSbom } from './sbom-files';
import type { SidecarFacts } from './sbom';
import { SeaBlob, writeImageExecutables } from './sea';
import { sourceDateEpoch } from './source-date-epoch';
import { ensureStandInBase, inspectLocalImage, removeReplacedImage, StandInBase } from './stand-in-base';

export const IMAGE_DIR = path.join(ROOT, 'dist', 'image');
/** The build context: the bundle, each platform's /livenessprobe, the license files and SBOMs, nothing else. */
const CONTEXT_DIR = path.join(IMAGE_DIR, 'context');
/** Where each platform's SEA blob and its configuration are written, outside the context. */
const SEA_WORK_DIR = path.join(IMAGE_DIR, 'sea-work');
/** The OCI image layout the archive is made from. */
const LAYOUT_DIR = path.join(IMAGE_DIR, 'layout');
export const ARCHIVE_PATH = path.join(IMAGE_DIR, 'csi-livenessprobe-ts.tar');
/** The registry of the example manifests' image (deploy/kubernetes/), the default reference's. */
export const DEFAULT_REGISTRY = 'registry.example.com';
/** A build may copy a 120 MB base layer per platform; a few minutes is the most one step may take. */
const BUILD_TIMEOUT_MS = 300_000;

/** One platform's image of a build. */
export interface BuiltPlatformImage extends LayoutImage {
  readonly platform: ImagePlatform;
  /** Its name in local container storage: "<reference>-<architecture>". */
  readonly localName: string;
  /** Where its base came from. */
  readonly baseSource: StandInBase['source'] | 'pulled';
  /** The stand-in it was built on, when it was (its Node.js and Debian packages, for the SBOM). */
  readonly standIn: StandInBase | undefined;
  /** The image's layers unpacked, as podman counts it. */
  readonly unpackedBytes: number;
  /** Its SBOM beside the archive (the same bytes as the one inside the image). */
  readonly sbomPath: string;
}

export interface BuiltImage {
  /** The fully qualified reference the archive names: "registry.example.com/csi-livenessprobe-ts:v0.1.0". */
  readonly reference: string;
  readonly baseImage: string;
  readonly sourceDateEpochS: number;
  /** The image index's digest. */
  readonly indexDigest: string;
  readonly images: readonly BuiltPlatformImage[];
  readonly archivePath: string;
  readonly archiveBytes: number;
  /** The build context (dist/image/context): the bundle, each platform's /livenessprobe, licenses, SBOMs. */
  readonly contextDir: string;
  /** Each platform's SEA blob (the bundle, its code cache and the options), and the configuration it was made from. */
  readonly seaBlobs: ReadonlyMap<ImagePlatform, SeaBlob>;
  readonly buildMs: number;
}

export interface BuildOptions {
  /** Defaults to defaultImageReference(). */
  readonly reference?: string;
  /** Pull the real base per platform instead of assembling stand-ins. */
  readonly pullBase?: boolean;
  /** Defaults to sourceDateEpoch(). */
  readonly sourceDateEpochS?: number;
  /** Where to write the archive; defaults to ARCHIVE_PATH. */
  readonly archivePath?: string;
  readonly log?: (line: string) => void;
}

/** "registry.example.com/csi-livenessprobe-ts:v0.1.0", from package.json: the example manifests' image. */
export function defaultImageReference(): string {
  const { name, version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${DEFAULT_REGISTRY}/${name}:v${version}`;
}

/** A tag's and a repository name's (host and path) most characters, as the distribution reference grammar has them. */
const MAX_TAG_LENGTH = 128;
const MAX_NAME_LENGTH = 255;
/** The reference's tag leaves room for the "-<architecture>" of each platform's local name. */
const MAX_REFERENCE_TAG_LENGTH = MAX_TAG_LENGTH - Math.max(...IMAGE_PLATFORMS.map((platform) => `-${platform.architecture}`.length));

/**
 * What is wrong with `reference` as the archive's name, or undefined: it must be fully qualified
 * (a registry host with a '.' or ':' or "localhost", a lower-case path, a tag) so that every runtime
 * stores it under the name a kubelet asks for; a short name ("csi-livenessprobe-ts:v1") becomes
 * "docker.io/library/..." for the kubelet but not for `ctr images import`. No digest: the build makes it.
 */
export function referenceProblem(reference: string): string | undefined {
  const match = /^([^/]+)\/([a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*):([\w][\w.-]{0,127})$/.exec(reference);
  if (!match) return `"${reference}" is not <registry>/<path>:<tag> (lower-case path, a tag, no digest)`;
  const [, host, repository, tag] = match;
  if (!(host.includes('.') || host.includes(':') || host === 'localhost')) return `"${host}" is not a registry host (it has no '.' or ':' and is not localhost), so runtimes would read it as a Docker Hub path`;
  // The distribution reference grammar's domain: labels of letters, digits and inner '-', joined by '.'.
  const hostMatch = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::(\d+))?$/.exec(host);
  if (!hostMatch) return `"${host}" is not a host[:port]`;
  if (hostMatch[1] !== undefined && !(Number(hostMatch[1]) >= 1 && Number(hostMatch[1]) <= 65535)) return `"${host}": port ${hostMatch[1]} is not 1-65535`;
  const nameLength = host.length + 1 + repository.length;
  if (nameLength > MAX_NAME_LENGTH) return `"${host}/${repository}" has ${nameLength} characters; a registry takes at most ${MAX_NAME_LENGTH}`;
  if (tag.length > MAX_REFERENCE_TAG_LENGTH) {
    return `the tag has ${tag.length} characters; at most ${MAX_REFERENCE_TAG_LENGTH}, since each platform's image is also stored as <reference>-<architecture> and a tag takes at most ${MAX_TAG_LENGTH}`;
  }
  return undefined;
}

/** Where `platform`'s SBOM goes beside `archivePath`: "dist/image/csi-livenessprobe-ts.arm64.cdx.json". */
export function sbomPathBeside(archivePath: string, platform: ImagePlatform): string {
  return path.join(path.dirname(archivePath), `${path.basename(archivePath, '.tar')}.${platform.architecture}.cdx.json`);
}

/** Builds the Dockerfile for one platform on its base; returns the image ID. */
/**
 * The OCI annotations each image's configuration carries as labels (image-spec annotations.md): what
 * the image is, its version and the commit it was built from, so `podman inspect` or a registry's UI
 * tells without the SBOM. They replace the stand-in base's description, which speaks of the base.
 */
function imageLabels(sidecar: SidecarFacts, baseImage: string): string[] {
  const { description } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { description: string };
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': sidecar.name,
    'org.opencontainers.image.description': description,
    'org.opencontainers.image.version': sidecar.version,
    'org.opencontainers.image.revision': sidecar.gitTreeModified ? `${sidecar.gitCommit}-dirty` : sidecar.gitCommit,
    'org.opencontainers.image.licenses': sidecar.license,
    'org.opencontainers.image.base.name': baseImage,
  };
  return Object.entries(labels).map(([key, value]) => `--label=${key}=${value}`);
}

/** Builds the Dockerfile for one platform on its base, with `labels`; returns the image ID. */
function buildPlatformImage(platform: ImagePlatform, localName: string, base: StandInBase | undefined, epochS: number, labels: readonly string[]): string {
  const previous = inspectLocalImage(localName);
  if (previous) removeReplacedImage(previous.id);
  const baseArgs = base ? ['--pull=never', `--from=${base.name}`] : ['--pull=always'];
  runContainerTool(
    'buildah',
    ['build', '--quiet', ...baseArgs, `--platform=${platformName(platform)}`, `--timestamp=${epochS}`, '--identity-label=false', ...labels, '--file', DOCKERFILE, '--tag', localName, CONTEXT_DIR],
    BUILD_TIMEOUT_MS,
  );
  return inspectLocalImage(localName)!.id;
}

/**
 * Frees `name` for the new image index: removes the manifest list of an earlier build, or the name
 * from an image that holds it (one `podman load` of an earlier archive stored under the reference).
 */
function releaseName(name: string): void {
  try {
    runContainerTool('buildah', ['manifest', 'inspect', name]);
    runContainerTool('buildah', ['manifest', 'rm', name]);
    return;
  } catch {
    // not a manifest list
  }
  const holder = inspectLocalImage(name);
  if (holder) runContainerTool('buildah', ['rmi', name]);
}

/**
 * Bundles the sidecar, builds one image per IMAGE_PLATFORMS entry, joins them in an image index
 * under `reference` and writes the OCI archive. Throws naming the step that failed.
 */
export async function buildImage(options: BuildOptions = {}): Promise<BuiltImage> {
  const startedAt = performance.now();
  const log = options.log ?? (() => undefined);
  const reference = options.reference ?? defaultImageReference();
  const problem = referenceProblem(reference);
  if (problem) throw new Error(`image reference: ${problem}`);
  const epochS = options.sourceDateEpochS ?? sourceDateEpoch();
  const archivePath = options.archivePath ?? ARCHIVE_PATH;
  requireContainerTools();
  fs.rmSync(CONTEXT_DIR, { recursive: true, force: true });
  const bundle = await bundleSidecar(CONTEXT_DIR);
  const sidecar = sidecarFacts(bundle);
  const baseImage = dockerfileBaseImage();
  const { executables, blobs: seaBlobs } = await writeImageExecutables(CONTEXT_DIR, bundle.bundlePath, SIDECAR_NODE_OPTIONS, SEA_WORK_DIR);

  const built: { platform: ImagePlatform; localName: string; id: string; base: StandInBase | undefined; contextSbom: string }[] = [];
  for (const platform of IMAGE_PLATFORMS) {
    const base = options.pullBase ? undefined : ensureStandInBase(baseImage, platform, epochS);
    const executable = executables.get(platform)!;
    log(`${platformName(platform)}: /livenessprobe node ${executable.node.version} with the bundle, ${executable.sha256.slice(0, 12)}; base ${base ? `${base.name} (${base.source}; ${base.debianPackages.map((deb) => `${deb.name} ${deb.version}`).join(', ')})` : `${baseImage}, pulled`}`);
    const executableFacts = { sha256: executable.sha256, blobSha256: executable.blobSha256, nodeOptions: SIDECAR_NODE_OPTIONS, node: executable.node };
    const contextSbom = writeContextSbom(CONTEXT_DIR, platform, bundle, sidecar, executableFacts, baseFacts(baseImage, base), epochS);
    const localName = `${reference}-${platform.architecture}`;
    built.push({ platform, localName, id: buildPlatformImage(platform, localName, base, epochS, imageLabels(sidecar, baseImage)), base, contextSbom });
  }

  releaseName(reference);
  runContainerTool('buildah', ['manifest', 'create', reference]);
  for (const image of built) runContainerTool('buildah', ['manifest', 'add', reference, `containers-storage:${image.id}`]);
  fs.rmSync(LAYOUT_DIR, { recursive: true, force: true });
  runContainerTool('buildah', ['manifest', 'push', '--quiet', '--all', '--format=oci', reference, `oci:${LAYOUT_DIR}:${reference}`], BUILD_TIMEOUT_MS);
  const layout: Layout = readLayout(LAYOUT_DIR);
  if (layout.referenceName !== reference) throw new Error(`the layout names ${layout.referenceName}, not ${reference}`);
  fs.mkdirSync(path.dirname(archivePath), { recursive: true });
  writeLayoutArchive(LAYOUT_DIR, archivePath, epochS);

  const images = built.map(({ platform, localName, id, base, contextSbom }): BuiltPlatformImage => {
    const inLayout = layout.images.find((image) => image.architecture === platform.architecture && image.os === platform.os);
    if (!inLayout) throw new Error(`the image index has no ${platformName(platform)} image`);
    if (inLayout.configDigest !== `sha256:${id}`) throw new Error(`${platformName(platform)}: the index's image has configuration ${inLayout.configDigest}, the built image is ${id}`);
    const unpackedBytes = Number(runContainerTool('podman', ['image', 'inspect', '--format', '{{.Size}}', id]));
    const sbomPath = sbomPathBeside(archivePath, platform);
    fs.copyFileSync(contextSbom, sbomPath);
    return { ...inLayout, platform, localName, baseSource: base ? base.source : 'pulled', standIn: base, unpackedBytes, sbomPath };
  });
  if (layout.images.length !== images.length) throw new Error(`the image index lists ${layout.images.length} images, the build made ${images.length}`);
  return {
    reference,
    baseImage,
    sourceDateEpochS: epochS,
    indexDigest: layout.indexDigest,
    images,
    archivePath,
    archiveBytes: fs.statSync(archivePath).size,
    contextDir: CONTEXT_DIR,
    seaBlobs,
    buildMs: performance.now() - startedAt,
  };
}

const MB = 1e6;

/** The lines `npm run image` prints: the reference, the index digest, and each platform's digest and sizes. */
export function describeBuild(image: BuiltImage): string[] {
  return [
    `built ${image.reference} in ${(image.buildMs / 1000).toFixed(1)} s (SOURCE_DATE_EPOCH ${image.sourceDateEpochS})`,
    `image index ${image.indexDigest}`,
    ...image.images.map(
      (platform) =>
        `  ${platformName(platform.platform)}: manifest ${platform.manifestDigest}, image ID ${platform.configDigest.slice('sha256:'.length, 'sha256:'.length + 12)}, ` +
        `${(platform.compressedBytes / MB).toFixed(1)} MB compressed, ${(platform.unpackedBytes / MB).toFixed(1)} MB unpacked, base ${platform.baseSource}; local name ${platform.localName}`,
    ),
    `wrote ${path.relative(process.cwd(), image.archivePath)}: ${(image.archiveBytes / MB).toFixed(1)} MB (${image.archiveBytes} bytes)`,
    ...image.images.map((platform) => `wrote ${path.relative(process.cwd(), platform.sbomPath)}: the ${platformName(platform.platform)} image's SBOM (CycloneDX 1.6), also in the image at ${SBOM_IMAGE_PATH}`),
  ];
}

if (require.main === module) {
  const usage = 'usage: npm run image -- [--reference=<registry>/<path>:<tag>] [--pull-base]\n';
  let values: { reference?: string; 'pull-base'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({ options: { reference: { type: 'string' }, 'pull-base': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`npm run image: ${(err as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  const problem = values.reference === undefined ? undefined : referenceProblem(values.reference);
  if (problem) {
    process.stderr.write(`npm run image: --reference: ${problem}; e.g. --reference=registry.example.com/csi-livenessprobe-ts:v1\n`);
    process.exit(2);
  }
  buildImage({ reference: values.reference, pullBase: values['pull-base'], log: (line) => process.stdout.write(`${line}\n`) }).then(
    (image) => process.stdout.write(`${describeBuild(image).join('\n')}\n`),
    (err: unknown) => {
      process.stderr.write(`npm run image failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
