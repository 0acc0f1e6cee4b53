// A small OCI archive shaped as `npm run image` writes one: one image index, an image per platform
// with the labels the build sets (version, revision), no layers. The release command's checks read
// only the index, the manifests and the configurations, and a registry takes such an image, so the
// tests of those checks and of pushes need no image build.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import packageJson from '../../package.json';
import { writeLayoutArchive } from '../../scripts/image/oci-layout';
import { IMAGE_PLATFORMS } from '../../scripts/image/platforms';
import { REPO_ROOT } from './image';

export interface FakeRelease {
  /** The tag of the reference the archive names; default "v" and package.json's version. */
  readonly tag?: string;
  /** The images' version label; default package.json's version. */
  readonly version?: string;
  /** The images' revision label; default the commit checked out. */
  readonly revision?: string;
  /** The images' creation time (RFC 3339); two builds of one commit differ in it, and so in digests. */
  readonly created?: string;
}

/** Writes the archive into `dir` (a folder the caller owns); returns its path. */
export function writeFakeReleaseArchive(dir: string, release: FakeRelease = {}): string {
  const { tag = `v${packageJson.version}`, version = packageJson.version, created = '1970-01-01T00:00:00Z' } = release;
  const revision = release.revision ?? execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  const layout = path.join(dir, 'layout');
  fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const blob = (value: unknown, mediaType: string) => {
    const bytes = Buffer.from(JSON.stringify(value));
    const hex = createHash('sha256').update(bytes).digest('hex');
    fs.writeFileSync(path.join(layout, 'blobs', 'sha256', hex), bytes);
    return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
  };
  const manifests = IMAGE_PLATFORMS.map((platform) => {
    const labels = { 'org.opencontainers.image.version': version, 'org.opencontainers.image.revision': revision };
    const config = blob({ created, architecture: platform.architecture, os: platform.os, config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [] } }, 'application/vnd.oci.image.config.v1+json');
    const manifest = blob({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [] }, 'application/vnd.oci.image.manifest.v1+json');
    return { ...manifest, platform: { architecture: platform.architecture, os: platform.os } };
  });
  const index = blob({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }, 'application/vnd.oci.image.index.v1+json');
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...index, annotations: { 'org.opencontainers.image.ref.name': `registry.example.com/csi-livenessprobe-ts:${tag}` } }] }));
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const archive = path.join(dir, 'archive.tar');
  writeLayoutArchive(layout, archive, 0);
  return archive;
}
