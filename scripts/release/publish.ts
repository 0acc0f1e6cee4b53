// `npm run release`: publishes the archive `npm run image` wrote to an OCI registry, the image index's
// digest kept, and proves it by reading everything back (docs/releasing.md has the steps around it).
//
//   npm run release -- <registry>/<path> [--archive=<file>] [--plain-http] [--authfile=<file>] [--allow-dirty]
//
// The tag is the archive's own (v and package.json's version); the digest users pull by is the one
// `npm run image` printed. A tag the registry already holds for another build is refused (TAG_TAKEN).
// Exit 0: pushed and read back equal; 1: not published, the message says why and what to do; 2: bad
// arguments. Every check that needs no network runs before the push.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ARCHIVE_PATH, referenceProblem } from '../image/build';
import { openReleaseArchive } from './release-archive';
import { ReleaseError } from './release-error';
import { checkReachable, publishedIndexDigest, pushLayout, ReadBack, RegistryTarget, requireSkopeo, verifyPushed } from './registry';

export const USAGE = 'usage: npm run release -- <registry>/<path> [--archive=<file>] [--plain-http] [--authfile=<file>] [--allow-dirty]\n';

export interface ReleaseOptions extends RegistryTarget {
  /** Defaults to ARCHIVE_PATH (dist/image/csi-livenessprobe-ts.tar). */
  readonly archivePath?: string;
  /** Push an archive built from a modified tree (a test registry only). */
  readonly allowDirty?: boolean;
  readonly log?: (line: string) => void;
}

export interface Published {
  /** "<repository>:<tag>". */
  readonly tagged: string;
  /** "<repository>@<index digest>": what users pull. */
  readonly pullByDigest: string;
  readonly revision: string;
  readonly readBack: ReadBack;
  readonly pushMs: number;
}

/** What is wrong with `repository` as a push destination, or undefined: <registry>/<path>, no tag or digest. */
export function repositoryProblem(repository: string): string | undefined {
  if (repository.includes('@')) return `"${repository}" has a digest; give <registry>/<path> alone: the digest is the archive's`;
  const slash = repository.indexOf('/');
  if (slash >= 0 && repository.slice(slash + 1).includes(':')) return `"${repository}" has a tag; give <registry>/<path> alone: the tag is the archive's (v and package.json's version)`;
  // Checked as `npm run image --reference` checks it, with a tag that is always valid.
  const problem = referenceProblem(`${repository}:v0.0.0`);
  return problem === undefined ? undefined : problem.replace(`"${repository}:v0.0.0" is not <registry>/<path>:<tag> (lower-case path, a tag, no digest)`, `"${repository}" is not <registry>/<path> (a registry host, a lower-case path)`);
}

/** `file` relative to the working directory when it is below it ("dist/image/..."), else absolute. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * Checks the archive, pushes it to `options.repository` under its tag and reads it back. Throws
 * ReleaseError (its code says which step failed); nothing is published unless it resolves.
 */
export async function publishRelease(options: ReleaseOptions): Promise<Published> {
  const log = options.log ?? (() => undefined);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-lp-release-'));
  try {
    const archive = openReleaseArchive(options.archivePath ?? ARCHIVE_PATH, workDir, options.allowDirty ?? false);
    const tagged = `${options.repository}:${archive.tag}`;
    log(`release ${archive.tag} of ${displayPath(archive.archivePath)} (commit ${archive.revision}), image index ${archive.layout.indexDigest}`);
    requireSkopeo();
    await checkReachable(options);
    // A release tag names one image for good (semver: a released version's contents never change):
    // users who pulled by tag and by the announced digest must get the same bytes. The same archive
    // again is safe; another build of the same version is refused before anything is pushed.
    const published = await publishedIndexDigest(options, archive.tag);
    if (published !== undefined && published !== archive.layout.indexDigest) {
      throw new ReleaseError(
        'TAG_TAKEN',
        `${tagged} already holds image index ${published}, not this archive's ${archive.layout.indexDigest}: ${archive.tag} was published from another build, and a release tag never moves; nothing was pushed; if ${published} is the release, keep it; otherwise release a new version (npm version patch, docs/releasing.md)`,
      );
    }
    if (published !== undefined) log(`${tagged} already holds this image index: pushing again changes nothing`);
    log(`pushing to ${tagged}${options.plainHttp ? ' over plain HTTP' : ''}`);
    const startedAt = performance.now();
    await pushLayout(archive.layoutDir, options, archive.tag, archive.layout);
    const pushMs = performance.now() - startedAt;
    const readBack = await verifyPushed(options, archive.tag, archive.layout);
    log(`pushed in ${(pushMs / 1000).toFixed(1)} s; read back from the registry, the same digests as the archive:`);
    log(`  image index ${readBack.indexDigest}`);
    for (const image of readBack.images) log(`  ${image.platform}: manifest ${image.manifestDigest}, configuration ${image.configDigest}`);
    const pullByDigest = `${options.repository}@${readBack.indexDigest}`;
    log(`pull by digest: ${pullByDigest}`);
    return { tagged, pullByDigest, revision: archive.revision, readBack, pushMs };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // A reader that closed stdout (`| head -1`, a log collector gone) must not stop a push half way:
  // the outcome is the exit code and stderr's line, so progress lines it cannot take are dropped.
  process.stdout.on('error', () => undefined);
  let parsed: { values: { archive?: string; 'plain-http'?: boolean; authfile?: string; 'allow-dirty'?: boolean; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { archive: { type: 'string' }, 'plain-http': { type: 'boolean' }, authfile: { type: 'string' }, 'allow-dirty': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`npm run release: ${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const problems: string[] = [];
  if (positionals.length !== 1) problems.push(`expected one repository (<registry>/<path>), got ${positionals.length}${positionals.length ? `: ${positionals.join(' ')}` : ''}`);
  const repositoryIssue = positionals.length === 1 ? repositoryProblem(positionals[0]) : undefined;
  if (repositoryIssue) problems.push(repositoryIssue);
  if (values.archive === '') problems.push('--archive is empty; give the archive npm run image wrote');
  if (values.authfile !== undefined && !fs.existsSync(values.authfile)) problems.push(`--authfile=${values.authfile}: no such file; write it with skopeo login --authfile=${values.authfile} <registry>`);
  if (problems.length > 0) {
    process.stderr.write(`${problems.map((problem) => `npm run release: ${problem}\n`).join('')}${USAGE}`);
    process.exit(2);
  }
  publishRelease({
    repository: positionals[0],
    plainHttp: values['plain-http'] ?? false,
    authFile: values.authfile,
    archivePath: values.archive === undefined ? undefined : path.resolve(values.archive),
    allowDirty: values['allow-dirty'] ?? false,
    log: (line) => process.stdout.write(`${line}\n`),
  }).then(
    () => undefined,
    (err: unknown) => {
      const code = err instanceof ReleaseError ? ` (${err.code})` : '';
      process.stderr.write(`npm run release failed${code}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
