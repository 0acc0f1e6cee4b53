// The OCI image layout `buildah manifest push --all oci:<dir>` writes, read back (its index, each
// platform's manifest and configuration, their digests and sizes), and written as one archive whose
// bytes depend on the layout's files alone: GNU tar with names sorted, every time SOURCE_DATE_EPOCH,
// owner and group 0 and no extended headers, so the same layout always gives the same archive.
// (containers/image's own oci-archive: transport tars a temporary folder with its times.)

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { architecture: string; os: string; variant?: string };
  readonly annotations?: Record<string, string>;
}

/** One platform's image as the layout holds it. */
export interface LayoutImage {
  readonly os: string;
  readonly architecture: string;
  /** The image manifest's digest: what `<reference>@<digest>` pulls for this platform. */
  readonly manifestDigest: string;
  /** The configuration's digest: the image ID podman and buildah show. */
  readonly configDigest: string;
  /** Compressed bytes a node pulls for this platform: manifest, configuration and layers. */
  readonly compressedBytes: number;
  readonly layerDigests: readonly string[];
}

/** The layout's one image index and the images it lists. */
export interface Layout {
  /** The image index's digest: what `<reference>` resolves to in a registry. */
  readonly indexDigest: string;
  /** org.opencontainers.image.ref.name of index.json's entry. */
  readonly referenceName: string;
  readonly images: readonly LayoutImage[];
}

function readBlob(layoutDir: string, digest: string): Buffer {
  const [algorithm, hex] = digest.split(':');
  return fs.readFileSync(path.join(layoutDir, 'blobs', algorithm, hex));
}

/**
 * Reads the layout in `layoutDir`: index.json must hold exactly one entry, an image index, whose
 * manifests each name a platform. Throws naming what is not so.
 */
export function readLayout(layoutDir: string): Layout {
  const top = JSON.parse(fs.readFileSync(path.join(layoutDir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  if (top.manifests.length !== 1 || top.manifests[0].mediaType !== INDEX_MEDIA_TYPE) {
    throw new Error(`${layoutDir}/index.json: expected one image index, found ${top.manifests.map((m) => m.mediaType).join(', ') || 'nothing'}`);
  }
  const entry = top.manifests[0];
  const index = JSON.parse(readBlob(layoutDir, entry.digest).toString('utf8')) as { manifests: Descriptor[] };
  const images = index.manifests.map((descriptor): LayoutImage => {
    if (descriptor.mediaType !== MANIFEST_MEDIA_TYPE || !descriptor.platform) throw new Error(`image index ${entry.digest}: entry ${descriptor.digest} is ${descriptor.mediaType} without a platform`);
    const manifest = JSON.parse(readBlob(layoutDir, descriptor.digest).toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
    const config = JSON.parse(readBlob(layoutDir, manifest.config.digest).toString('utf8')) as { os: string; architecture: string };
    if (config.os !== descriptor.platform.os || config.architecture !== descriptor.platform.architecture) {
      throw new Error(`image ${descriptor.digest}: the index says ${descriptor.platform.os}/${descriptor.platform.architecture}, its configuration ${config.os}/${config.architecture}`);
    }
    return {
      os: config.os,
      architecture: config.architecture,
      manifestDigest: descriptor.digest,
      configDigest: manifest.config.digest,
      compressedBytes: descriptor.size + manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
      layerDigests: manifest.layers.map((layer) => layer.digest),
    };
  });
  return { indexDigest: entry.digest, referenceName: entry.annotations?.['org.opencontainers.image.ref.name'] ?? '', images };
}

/** Writes `layoutDir` as the tar archive `archivePath`, its bytes a function of the files alone (see the header). */
export function writeLayoutArchive(layoutDir: string, archivePath: string, sourceDateEpochS: number): void {
  fs.rmSync(archivePath, { force: true });
  execFileSync('tar', [
    '--create',
    `--file=${archivePath}`,
    `--directory=${layoutDir}`,
    '--sort=name',
    `--mtime=@${sourceDateEpochS}`,
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=u=rwX,go=rX',
    '--format=ustar',
    'oci-layout',
    'index.json',
    'blobs',
  ]);
}
