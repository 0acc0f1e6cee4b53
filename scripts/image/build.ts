// `npm run image`: the container image from the repository's Dockerfile, built with buildah and
// no registry, written as an OCI archive.
//
//   node dist/scripts/image/build.js
//
// As upstream builds its images, the artifact is made outside the image (the bundle and its
// license texts, scripts/bundle.ts) and the Dockerfile copies it into the runtime base, the one
// image the build needs. Where that base cannot be pulled it is assembled locally under its own
// name (scripts/image/stand-in-base.ts) and the build runs with --pull=never.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { bundleSidecar } from '../bundle';
import { requireContainerTools, ROOT, runContainerTool } from './container-tools';
import { BaseSource, ensureBaseImage, inspectLocalImage, removeReplacedImage } from './stand-in-base';

export const DOCKERFILE = path.join(ROOT, 'Dockerfile');
export const IMAGE_DIR = path.join(ROOT, 'dist', 'image');
/** The build context: the bundle and its license file, nothing else. */
const CONTEXT_DIR = path.join(IMAGE_DIR, 'context');
export const ARCHIVE_PATH = path.join(IMAGE_DIR, 'csi-livenessprobe-ts.tar');
/** The build may copy a 120 MB base layer; a few minutes is the most it may take. */
const BUILD_TIMEOUT_MS = 300_000;

export interface BuiltImage {
  /** The name in local container storage, e.g. "localhost/csi-livenessprobe-ts:v0.1.0". */
  readonly name: string;
  /** The image ID (sha256 of its configuration). */
  readonly id: string;
  readonly baseImage: string;
  readonly baseSource: BaseSource;
  readonly archivePath: string;
  readonly archiveBytes: number;
  /** The image's layers unpacked, as podman counts it. */
  readonly unpackedBytes: number;
  readonly buildMs: number;
}

/** The one FROM image of the Dockerfile; throws when there is not exactly one. */
export function dockerfileBaseImage(): string {
  const froms = DockerfileParser.parse(fs.readFileSync(DOCKERFILE, 'utf8')).getFROMs();
  if (froms.length !== 1) throw new Error(`${DOCKERFILE} has ${froms.length} FROM lines; the image is built from one base`);
  const image = froms[0].getImage();
  if (!image) throw new Error(`${DOCKERFILE}: FROM names no image`);
  return image;
}

/** "csi-livenessprobe-ts:v0.1.0", from package.json. */
export function imageReference(): string {
  const { name, version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  return `${name}:v${version}`;
}

/**
 * Bundles the sidecar, makes sure the base image is in local storage, builds the Dockerfile with
 * buildah (--pull=never) and writes the OCI archive ARCHIVE_PATH. Throws naming the step that failed.
 */
export async function buildImage(log: (line: string) => void = () => undefined): Promise<BuiltImage> {
  const startedAt = performance.now();
  requireContainerTools();
  fs.rmSync(CONTEXT_DIR, { recursive: true, force: true });
  await bundleSidecar(CONTEXT_DIR);
  const reference = imageReference();
  const name = `localhost/${reference}`;
  // The image this build replaces goes first, so that a stand-in base it was built on can go too.
  const previous = inspectLocalImage(name);
  if (previous) removeReplacedImage(previous.id);
  const baseImage = dockerfileBaseImage();
  const baseSource = ensureBaseImage(baseImage);
  log(`base ${baseImage}: ${baseSource}`);
  runContainerTool('buildah', ['build', '--quiet', '--pull=never', '--file', DOCKERFILE, '--tag', name, CONTEXT_DIR], BUILD_TIMEOUT_MS);
  const id = inspectLocalImage(name)!.id;
  fs.rmSync(ARCHIVE_PATH, { force: true });
  runContainerTool('buildah', ['push', '--quiet', name, `oci-archive:${ARCHIVE_PATH}:${reference}`], BUILD_TIMEOUT_MS);
  const unpackedBytes = Number(runContainerTool('podman', ['image', 'inspect', '--format', '{{.Size}}', name]));
  return { name, id, baseImage, baseSource, archivePath: ARCHIVE_PATH, archiveBytes: fs.statSync(ARCHIVE_PATH).size, unpackedBytes, buildMs: performance.now() - startedAt };
}

const MB = 1e6;

if (require.main === module) {
  buildImage((line) => process.stdout.write(`${line}\n`)).then(
    (image) =>
      process.stdout.write(
        `built ${image.name} (${image.id.slice(0, 12)}) in ${(image.buildMs / 1000).toFixed(1)} s\n` +
          `wrote ${path.relative(process.cwd(), image.archivePath)}: ${(image.archiveBytes / MB).toFixed(1)} MB (${image.archiveBytes} bytes); ` +
          `unpacked ${(image.unpackedBytes / MB).toFixed(1)} MB\n`,
      ),
    (err: unknown) => {
      process.stderr.write(`npm run image failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
