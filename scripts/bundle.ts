// `npm run build` step two: the sidecar as one file that runs with plain
// `node` and no node_modules (what the container image's /livenessprobe carries), plus the
// license texts of the packages bundled into it. From the command line it also
// writes each platform's /livenessprobe (livenessprobe/<arch>, scripts/image/sea.ts), Node.js's
// license and each platform's SBOM for a base it does not assemble (sbom/<arch>.cdx.json,
// the base "not listed"), so the folder is the Dockerfile's whole build context for
// `docker buildx build`; `npm run image` writes SBOMs that list its stand-in bases.
//
//   node dist/scripts/bundle.js [--out dist/bundle]
//
// The git commit is written in for --version when it is known.
//
// Reproducible: the same commit gives the same bytes in any folder. esbuild's output depends only on
// its inputs and options, and the one path-like text it writes (the "// node_modules/..." comment
// above each module) is relative to absWorkingDir, fixed here to the repository's root rather than
// the caller's working directory; the commit is the only value taken from outside the tree.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { build, Metafile } from 'esbuild';
import { BundledPackage, bundledPackages } from './bundled-packages';
import { dockerfileBaseImage } from './image/dockerfile';
import { IMAGE_PLATFORMS } from './image/platforms';
import { writeImageExecutables } from './image/sea';
import { baseFacts, sidecarFacts, writeContextSbom } from './image/sbom-files';
import { sourceDateEpoch } from './image/source-date-epoch';
import { logCallersPlugin } from './log-callers';

const ROOT = path.resolve(__dirname, '..', '..');
export const BUNDLE_FILE_NAME = 'csi-livenessprobe.js';
export const LICENSES_FILE_NAME = 'THIRD-PARTY-LICENSES.txt';
/** The bin script's "#!/usr/bin/env -S node <V8 options>" line: the bundle runs with the same options. */
export const SHEBANG = fs.readFileSync(path.join(ROOT, 'bin', 'csi-livenessprobe.js'), 'utf8').split('\n')[0];
/** The V8 options the sidecar runs with, from SHEBANG; the benchmark and the image use the same. */
export const SIDECAR_NODE_OPTIONS: readonly string[] = SHEBANG.replace(/^#!\S*env -S node\s*/, '').split(/\s+/).filter(Boolean);

/**
 * CSI_LIVENESSPROBE_GIT_COMMIT (the image build passes it in), else git's HEAD of `root`, with
 * "-dirty" when files differ from it (git status, as the SBOM's git-tree property; upstream's
 * `git describe --dirty`), else nothing.
 */
export function gitCommit(root = ROOT): string {
  const given = process.env.CSI_LIVENESSPROBE_GIT_COMMIT;
  if (given !== undefined && given !== '') return given;
  const git = (args: readonly string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git(['rev-parse', '--short=12', 'HEAD']);
    return git(['status', '--porcelain']) === '' ? commit : `${commit}-dirty`;
  } catch {
    return ''; // not a git checkout (a source tarball): --version then names no commit
  }
}

/** What bundleSidecar wrote. */
export interface SidecarBundle {
  readonly bundlePath: string;
  /** The npm packages with code in the bundle (esbuild's metafile), with their lock entries. */
  readonly packages: readonly BundledPackage[];
  /** esbuild's account of the inputs it compiled in. */
  readonly metafile: Metafile;
}

/** Writes the bundle and the license file into `outDir`. */
export async function bundleSidecar(outDir: string): Promise<SidecarBundle> {
  const outFile = path.join(outDir, BUNDLE_FILE_NAME);
  const result = await build({
    // Module comments name paths relative to this folder: the same wherever the checkout is.
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, 'src', 'main.ts')],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // Not minified: a stack trace of a crash names the bundle's lines, which must stay readable.
    minify: false,
    // Log lines name the source file and line of each log call, as klog does (scripts/log-callers.ts).
    plugins: [logCallersPlugin(path.join(ROOT, 'src'))],
    banner: { js: SHEBANG },
    define: { CSI_LIVENESSPROBE_GIT_COMMIT: JSON.stringify(gitCommit()) },
    // prom-client's process CPU series load OpenTelemetry's API for exemplars, which the sidecar never enables.
    alias: { '@opentelemetry/api': path.join(ROOT, 'scripts', 'opentelemetry-api-unused.js') },
    legalComments: 'none', // the whole license texts go to LICENSES_FILE_NAME instead
    metafile: true,
    logLevel: 'warning',
  });
  fs.chmodSync(outFile, 0o755);
  const packages = bundledPackages(result.metafile);
  fs.writeFileSync(path.join(outDir, LICENSES_FILE_NAME), thirdPartyLicenses(packages));
  return { bundlePath: outFile, packages, metafile: result.metafile };
}

/** The LICENSE file of every npm package with code in the bundle. */
function thirdPartyLicenses(packages: readonly BundledPackage[]): string {
  const sections: string[] = [];
  for (const dir of packages.map((bundled) => path.join(ROOT, bundled.lockPath))) {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name: string; version: string; license?: string };
    const licenseFile = fs.readdirSync(dir).find((name) => /^(license|licence|copying)/i.test(name));
    if (!licenseFile) throw new Error(`${manifest.name} has no LICENSE file; its license (${manifest.license ?? 'unknown'}) must be checked by hand`);
    const text = fs.readFileSync(path.join(dir, licenseFile), 'utf8').trim();
    sections.push(`${manifest.name}@${manifest.version} (${manifest.license ?? 'see below'})\n\n${text}\n`);
  }
  return sections.join(`\n${'-'.repeat(78)}\n\n`);
}

/**
 * `npm run build`: the bundle, its license file and, per platform, /livenessprobe and the SBOM for a
 * base this build does not assemble.
 */
async function buildContext(outDir: string): Promise<string[]> {
  const bundle = await bundleSidecar(outDir);
  const sidecar = sidecarFacts(bundle);
  const epochS = sourceDateEpoch();
  const base = baseFacts(dockerfileBaseImage(), undefined);
  const { executables, nodeLicensePath } = await writeImageExecutables(outDir, bundle.bundlePath, SIDECAR_NODE_OPTIONS, path.join(ROOT, 'dist', 'image', 'sea-work'));
  const sboms = IMAGE_PLATFORMS.map((platform) => {
    const executable = executables.get(platform)!;
    const facts = { sha256: executable.sha256, blobSha256: executable.blobSha256, nodeOptions: SIDECAR_NODE_OPTIONS, node: executable.node };
    return writeContextSbom(outDir, platform, bundle, sidecar, facts, base, epochS);
  });
  return [bundle.bundlePath, path.join(outDir, LICENSES_FILE_NAME), ...[...executables.values()].map((executable) => executable.path), nodeLicensePath, ...sboms];
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(ROOT, 'dist', 'bundle') } } });
  buildContext(path.resolve(values.out!)).then(
    (files) => process.stdout.write(files.map((file) => `wrote ${path.relative(process.cwd(), file)} (${fs.statSync(file).size} bytes)\n`).join('')),
    (err: unknown) => {
      process.stderr.write(`bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
