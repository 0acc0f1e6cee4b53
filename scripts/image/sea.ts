// The image's /livenessprobe: one executable file per platform, the official Node.js binary of
// .node-version with the sidecar's bundle injected as a Node.js single executable application (SEA,
// https://nodejs.org/docs/latest-v24.x/api/single-executable-applications.html). Upstream's image has
// its binary at /livenessprobe, and pod specs call it by that path (`command: ["/livenessprobe", ...]`)
// as well as through the ENTRYPOINT (`args:` only): both run this file.
//
// The SEA configuration carries the sidecar's V8 options (execArgv, the options of
// bin/csi-livenessprobe.js), so they apply however the file is started; NODE_OPTIONS still
// extends them, as it did for `node <options> /csi-livenessprobe.js` (execArgvExtension "env").
//
// How: `node --experimental-sea-config` writes the preparation blob (Node.js 24.22.3 has no
// --build-sea), and postject, the Node.js project's injector, copies it into a copy of the binary as
// the ELF note NODE_SEA_BLOB and flips the sentinel fuse.
//
// The blob carries V8's code cache of the bundle (useCodeCache): the bundle's functions compiled
// ahead, so a start deserializes them instead of compiling 275 KB of source. V8 takes a code cache
// only from the same V8 build on the same CPU architecture with the same V8 flags (it checks a hash
// of the flags and otherwise compiles from source, silently: Node.js prints nothing), so:
//   - each platform's blob is written by that platform's own Node.js binary; a foreign one (arm64
//     on an amd64 machine) runs under qemu-user through binfmt_misc, its loader and libraries taken
//     from the Debian packages the image's base is made of (unpacked into a folder of its own);
//   - the writing node runs with the sidecar's V8 options, the ones the executable starts with
//     (execArgv); the cache made without them is refused at every start (--profile-deserialization
//     prints "[Cached code failed check: flags mismatch]").
// Reproducible: V8 seeds its string hashes from a random number per process, and the cache's bytes
// depend on those hashes (two blobs of the same bundle differ, in size too). The writing node runs
// with --random-seed=1, which makes them the same every time; V8 leaves --random-seed out of the
// flags hash it checks, so the cache is still taken by an executable that does not have the option.
// The fixed seed is that of the build's node only: the sidecar runs with V8's random seed per
// process, as any node does (a fixed one would let a client craft colliding keys, HashDoS).
// The blob is then a function of the bundle, the configuration and the Node.js binary, and
// postject's injection of the same blob into the same binary gives the same bytes
// (test/runtime/reproducible-build.test.ts).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject } from 'postject';
import { fileSha256 } from './sbom-files';
import { fetchRuntimePackages, unpackDebianPackage } from './debian-packages';
import { fetchNodeBinary, NodeBinary } from './node-binary';
import { hostPlatform, IMAGE_PLATFORMS, ImagePlatform, platformName } from './platforms';

/** Where pod specs and the ENTRYPOINT find the sidecar in the image, as in upstream's image. */
export const SEA_IMAGE_PATH = '/livenessprobe';
/** The name of the resource Node.js looks for in its own binary, and the fuse it checks first (Node.js's documentation). */
export const SEA_RESOURCE_NAME = 'NODE_SEA_BLOB';
export const SEA_SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Writing a blob takes about a second, under emulation too; a loaded machine gets two minutes. */
const BLOB_TIMEOUT_MS = 120_000;
/**
 * The V8 random seed of the node that writes the blob, so that its code cache is the same bytes
 * every time (see the header). Any fixed value does; the sidecar itself never runs with one.
 */
export const BLOB_RANDOM_SEED_OPTION = '--random-seed=1';

/** The SEA configuration file Node.js reads (the fields this build sets). */
export interface SeaConfig {
  readonly main: string;
  readonly output: string;
  readonly disableExperimentalSEAWarning: true;
  readonly useSnapshot: false;
  /** V8's code cache of the bundle, written by the platform's node with the execArgv's V8 options. */
  readonly useCodeCache: true;
  /** The V8 options the executable starts with: the sidecar's (SIDECAR_NODE_OPTIONS). */
  readonly execArgv: readonly string[];
  /** NODE_OPTIONS extends execArgv, as it extends the options of a `node` command line. */
  readonly execArgvExtension: 'env';
}

/**
 * The configuration that turns the bundle `bundleName` into the blob `blobName`, run with
 * `nodeOptions`. Both names are relative to the folder node runs in: the blob keeps the main
 * script's path as given (it names the script in stack traces), so an absolute one would make the
 * blob differ from one checkout's folder to another's.
 */
export function seaConfig(bundleName: string, blobName: string, nodeOptions: readonly string[]): SeaConfig {
  return {
    main: bundleName,
    output: blobName,
    // The warning would be the first line on stderr of every start, above the klog lines.
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache: true,
    execArgv: [...nodeOptions],
    execArgvExtension: 'env',
  };
}

/** One platform's preparation blob. */
export interface SeaBlob {
  readonly blobPath: string;
  readonly config: SeaConfig;
}

/**
 * The folder with `platform`'s loader and libraries (Debian's libc6, libgcc-s1 and libstdc++6, as
 * in the image's base) that qemu-user reads as the emulated program's root for its loader
 * (QEMU_LD_PREFIX), unpacked into `workDir` when missing.
 */
function foreignLibraryRoot(platform: ImagePlatform, workDir: string): string {
  const packages = fetchRuntimePackages(platform);
  const root = path.join(workDir, `lib-root-${platform.architecture}`);
  const stamp = path.join(root, '.packages');
  const wanted = packages.map((deb) => `${deb.name} ${deb.version}`).join('\n');
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === wanted) return root;
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  for (const deb of packages) unpackDebianPackage(deb, root);
  fs.writeFileSync(stamp, wanted);
  return root;
}

/**
 * Writes `platform`'s SEA preparation blob of `bundlePath` with `nodeOptions` into `workDir`
 * (sea-<architecture>.blob, and its configuration sea-config-<architecture>.json), with the code
 * cache written by `node`, which must be `platform`'s Node.js binary of the version the blob is
 * injected into; a platform other than this machine's runs under qemu-user (binfmt_misc). Throws
 * with node's output when it fails.
 */
export function writeSeaBlob(node: NodeBinary, platform: ImagePlatform, bundlePath: string, nodeOptions: readonly string[], workDir: string): SeaBlob {
  fs.mkdirSync(workDir, { recursive: true });
  const blobPath = path.join(workDir, `sea-${platform.architecture}.blob`);
  const configPath = path.join(workDir, `sea-config-${platform.architecture}.json`);
  const config = seaConfig(path.basename(bundlePath), path.relative(path.dirname(bundlePath), blobPath), nodeOptions);
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  fs.rmSync(blobPath, { force: true });
  const foreign = platform !== hostPlatform();
  const env = foreign ? { ...process.env, QEMU_LD_PREFIX: foreignLibraryRoot(platform, workDir) } : process.env;
  const args = [...nodeOptions, BLOB_RANDOM_SEED_OPTION, '--experimental-sea-config', configPath];
  const command = `${foreign ? `QEMU_LD_PREFIX=${env.QEMU_LD_PREFIX} ` : ''}${node.binaryPath} ${args.join(' ')}`;
  try {
    execFileSync(node.binaryPath, args, { cwd: path.dirname(bundlePath), env, stdio: ['ignore', 'pipe', 'pipe'], timeout: BLOB_TIMEOUT_MS });
  } catch (err) {
    const { stdout, stderr, code } = err as { stdout?: Buffer; stderr?: Buffer; code?: string };
    const hint = foreign && code === 'ENOEXEC' ? ` (this machine runs no ${platformName(platform)} programs: install qemu-user-static, which registers its emulators with binfmt_misc)` : '';
    throw new Error(`${command} failed${hint}: ${`${stdout ?? ''}${stderr ?? ''}`.trim() || String(err)}`, { cause: err });
  }
  if (!fs.existsSync(blobPath)) throw new Error(`${command} wrote no ${blobPath}`);
  return { blobPath, config };
}

/** One platform's /livenessprobe as written into the build context. */
export interface SeaExecutable {
  readonly path: string;
  /** SHA-256 (hex) of the executable. */
  readonly sha256: string;
  /** SHA-256 (hex) of the blob injected into it. */
  readonly blobSha256: string;
  /** The Node.js binary it was made from (its SHA-256 is of the binary before injection). */
  readonly node: NodeBinary;
}

/**
 * LIEF, inside postject, warns once per ELF note it rewrites ("warning: Can't find string offset for section name
 * '.note.100'"): dozens of lines per executable that say nothing about the result (the tests check the executable
 * runs and carries the blob), which would bury what `npm run build` and `npm run image` print. postject writes them
 * through console.warn, bound to the console when it loads, so only process.stderr's write can drop them: until the
 * returned function is called, chunks that are exactly such lines are dropped and everything else passes through.
 */
function dropLiefNoteWarnings(): () => void {
  const write = process.stderr.write;
  const noteWarning = /^warning: Can't find string offset for section name '\.note[\w.-]*'\n?$/;
  process.stderr.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === 'string' && noteWarning.test(chunk)) return true;
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stderr.write;
  return () => {
    process.stderr.write = write;
  };
}

/**
 * Copies `node`'s binary to `outPath` (mode 0755) and injects `blob` into it. Throws naming the file
 * when postject fails (e.g. the binary has no sentinel fuse: not a Node.js release build).
 */
export async function writeSeaExecutable(node: NodeBinary, blob: SeaBlob, outPath: string): Promise<SeaExecutable> {
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.copyFileSync(node.binaryPath, outPath);
  fs.chmodSync(outPath, 0o755);
  const restoreStderr = dropLiefNoteWarnings();
  try {
    // postject fails by throwing; what it prints besides is LIEF's note warnings, dropped above.
    await inject(outPath, SEA_RESOURCE_NAME, fs.readFileSync(blob.blobPath), { sentinelFuse: SEA_SENTINEL_FUSE });
  } catch (err) {
    throw new Error(`postject could not inject ${blob.blobPath} into ${outPath} (a copy of ${node.binaryPath}): ${(err as Error).message}`, { cause: err });
  } finally {
    restoreStderr();
  }
  return { path: outPath, sha256: fileSha256(outPath), blobSha256: fileSha256(blob.blobPath), node };
}

/** What writeImageExecutables wrote: one /livenessprobe per platform, its blob, and Node.js's license. */
export interface ImageExecutables {
  readonly executables: ReadonlyMap<ImagePlatform, SeaExecutable>;
  readonly blobs: ReadonlyMap<ImagePlatform, SeaBlob>;
  /** Node.js's LICENSE (the same text in every platform's package), for the image's /licenses. */
  readonly nodeLicensePath: string;
}

/** The build context's file for `platform`'s /livenessprobe (the Dockerfile copies livenessprobe/${TARGETARCH}). */
export function seaContextFile(platform: ImagePlatform): string {
  return path.join('livenessprobe', platform.architecture);
}
/** The build context's copy of Node.js's LICENSE (the Dockerfile copies it to /licenses/NODE-LICENSE). */
export const NODE_LICENSE_CONTEXT_FILE = 'NODE-LICENSE';

/**
 * Writes every IMAGE_PLATFORMS entry's /livenessprobe into the build context `contextDir`
 * (livenessprobe/<architecture>) from the bundle `bundlePath` with `nodeOptions`, and Node.js's
 * LICENSE; each platform's blob is written by its own Node.js of .node-version, in `workDir`.
 * Throws when a Node.js binary cannot be had (fetchNodeBinary), the host has no image platform, or
 * a step fails.
 */
export async function writeImageExecutables(contextDir: string, bundlePath: string, nodeOptions: readonly string[], workDir: string): Promise<ImageExecutables> {
  const host = hostPlatform();
  if (!host) throw new Error(`this machine's architecture (${process.arch}) is none of the image's (${IMAGE_PLATFORMS.map(platformName).join(', ')}): the image's Node.js binaries cannot run here to write their code caches`);
  const executables = new Map<ImagePlatform, SeaExecutable>();
  const blobs = new Map<ImagePlatform, SeaBlob>();
  for (const platform of IMAGE_PLATFORMS) {
    const node = fetchNodeBinary(platform);
    const blob = writeSeaBlob(node, platform, bundlePath, nodeOptions, workDir);
    blobs.set(platform, blob);
    executables.set(platform, await writeSeaExecutable(node, blob, path.join(contextDir, seaContextFile(platform))));
  }
  const nodeLicensePath = path.join(contextDir, NODE_LICENSE_CONTEXT_FILE);
  fs.copyFileSync(executables.get(host)!.node.licensePath, nodeLicensePath);
  return { executables, blobs, nodeLicensePath };
}
