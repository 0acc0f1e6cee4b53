// The archive `npm run image` wrote, opened for a release: unpacked into a folder of its own (the OCI
// image layout skopeo pushes from, the same bytes the archive holds), its image index and platforms
// read with scripts/image/oci-layout.ts, and checked to be a release of the commit checked out:
// the tag a semver vX.Y.Z matching the images' version label, every image's revision label this
// commit, built from an unmodified tree (a "-dirty" revision is refused unless allowed).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from '../image/container-tools';
import { Layout, readLayout } from '../image/oci-layout';
import { ReleaseError } from './release-error';

/**
 * The largest archive taken: today's is 108 MB for two platforms (a Node.js binary, glibc and the
 * bundle each); ten times that is no archive `npm run image` writes.
 */
export const MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024;
/** Unpacking the largest archive on a slow disk. */
const UNPACK_TIMEOUT_MS = 120_000;
/** A release tag: "v" and a semantic version (semver.org), pre-release allowed, no build metadata. */
export const RELEASE_TAG_PATTERN = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const VERSION_LABEL = 'org.opencontainers.image.version';
const REVISION_LABEL = 'org.opencontainers.image.revision';

/** An archive checked to be a release, unpacked at `layoutDir`. */
export interface ReleaseArchive {
  readonly archivePath: string;
  /** The unpacked OCI image layout (removed with the folder the caller gave). */
  readonly layoutDir: string;
  readonly layout: Layout;
  /** The tag of the reference the archive names: "v0.1.0". */
  readonly tag: string;
  /** The images' revision label: the full commit, "-dirty" when the tree had changes. */
  readonly revision: string;
}

/** `git rev-parse HEAD` in the repository; throws ARCHIVE_STALE's reason when there is no checkout. */
function checkedOutCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (err) {
    throw new ReleaseError('ARCHIVE_STALE', `cannot tell which commit is checked out in ${ROOT} (git rev-parse HEAD failed); release from a git checkout of the release's tag`, err);
  }
}

/** The labels of the image configuration `configDigest` in the layout. */
function imageLabels(layoutDir: string, configDigest: string): Record<string, string> {
  const [algorithm, hex] = configDigest.split(':');
  const config = JSON.parse(fs.readFileSync(path.join(layoutDir, 'blobs', algorithm, hex), 'utf8')) as { config?: { Labels?: Record<string, string> } };
  return config.config?.Labels ?? {};
}

/**
 * Unpacks `archivePath` into `workDir` (an empty folder the caller owns and removes) and checks it is
 * a release of the commit checked out. Throws ReleaseError: ARCHIVE_UNREADABLE (missing, too large,
 * not an OCI layout of one image index), ARCHIVE_NOT_RELEASABLE (tag not vX.Y.Z, labels that disagree,
 * a modified tree without `allowDirty`), ARCHIVE_STALE (built from another commit).
 */
export function openReleaseArchive(archivePath: string, workDir: string, allowDirty: boolean): ReleaseArchive {
  const rebuild = 'build it again from this checkout with npm run image';
  let stat: fs.Stats;
  try {
    stat = fs.statSync(archivePath);
  } catch (err) {
    throw new ReleaseError('ARCHIVE_UNREADABLE', `no image archive at ${archivePath} (${(err as NodeJS.ErrnoException).code ?? String(err)}); ${rebuild}, or pass --archive=<file>`, err);
  }
  if (!stat.isFile()) throw new ReleaseError('ARCHIVE_UNREADABLE', `${archivePath} is not a file; pass the archive npm run image wrote with --archive=<file>`);
  if (stat.size > MAX_ARCHIVE_BYTES) throw new ReleaseError('ARCHIVE_UNREADABLE', `${archivePath} has ${stat.size} bytes, more than the ${MAX_ARCHIVE_BYTES} an image archive of this project can have; pass the archive npm run image wrote`);

  const layoutDir = path.join(workDir, 'layout');
  fs.mkdirSync(layoutDir);
  let layout: Layout;
  try {
    execFileSync('tar', ['--extract', `--file=${archivePath}`, `--directory=${layoutDir}`, '--no-same-owner'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: UNPACK_TIMEOUT_MS });
    layout = readLayout(layoutDir);
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').join('; ') || (err as Error).message;
    throw new ReleaseError('ARCHIVE_UNREADABLE', `${archivePath} is not an OCI archive of one image index (${detail}); ${rebuild}`, err);
  }

  const tag = /:([^/:]+)$/.exec(layout.referenceName)?.[1] ?? '';
  if (!RELEASE_TAG_PATTERN.test(tag)) {
    throw new ReleaseError('ARCHIVE_NOT_RELEASABLE', `${archivePath} names ${layout.referenceName || 'no reference'}: its tag "${tag}" is not a release tag v<major>.<minor>.<patch>; build it with npm run image (the tag is v and package.json's version) or --reference=<registry>/<path>:vX.Y.Z`);
  }
  const commit = checkedOutCommit();
  const revisions = new Set<string>();
  for (const image of layout.images) {
    const labels = imageLabels(layoutDir, image.configDigest);
    const platform = `${image.os}/${image.architecture}`;
    if (`v${labels[VERSION_LABEL]}` !== tag) {
      throw new ReleaseError('ARCHIVE_NOT_RELEASABLE', `${archivePath}: the ${platform} image's version label is "${labels[VERSION_LABEL] ?? ''}", the tag ${tag}; set package.json's version and the tag alike (docs/releasing.md) and ${rebuild}`);
    }
    revisions.add(labels[REVISION_LABEL] ?? '');
  }
  if (revisions.size !== 1) throw new ReleaseError('ARCHIVE_NOT_RELEASABLE', `${archivePath}: the images name different commits (${[...revisions].join(', ')}); ${rebuild}`);
  const [revision] = revisions;
  const [builtCommit, dirty] = revision.split('-');
  if (builtCommit !== commit) {
    throw new ReleaseError('ARCHIVE_STALE', `${archivePath} was built from commit ${builtCommit || '(none named)'}, but ${commit} is checked out: it is an old archive, or from another checkout; ${rebuild}`);
  }
  if (dirty !== undefined && !allowDirty) {
    throw new ReleaseError('ARCHIVE_NOT_RELEASABLE', `${archivePath} was built from a tree with changes not in commit ${commit} (revision ${revision}); commit or drop them and ${rebuild} (--allow-dirty pushes it anyway, for trying the command on a test registry)`);
  }
  return { archivePath, layoutDir, layout, tag, revision };
}
