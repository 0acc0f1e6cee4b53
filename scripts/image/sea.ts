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
// the ELF note NODE_SEA_BLOB and flips the sentinel fuse. Without a code cache or a snapshot the blob
// holds the bundle's source and the options only, nothing of the machine that wrote it, so the host's
// node writes one blob for every platform. No code cache: V8's cache is for the CPU it was made on (an
// arm64 one needs the arm64 node under emulation), and its bytes differ from one run to the next
// (two blobs of the same bundle with useCodeCache, written one after the other by Node.js 24.22.3 on
// linux/amd64, had different SHA-256s), which would end the byte-identical build.
//
// Reproducible: the blob is a function of the bundle and the configuration, and postject's injection
// of the same blob into the same binary gives the same bytes (test/runtime/reproducible-build.test.ts).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inject } from 'postject';
import { fileSha256 } from './sbom-files';
import { fetchNodeBinary, NodeBinary } from './node-binary';
import { hostPlatform, IMAGE_PLATFORMS, ImagePlatform, platformName } from './platforms';

/** Where pod specs and the ENTRYPOINT find the sidecar in the image, as in upstream's image. */
export const SEA_IMAGE_PATH = '/livenessprobe';
/** The name of the resource Node.js looks for in its own binary, and the fuse it checks first (Node.js's documentation). */
export const SEA_RESOURCE_NAME = 'NODE_SEA_BLOB';
export const SEA_SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Writing a blob takes well under a second; a loaded machine gets a minute. */
const BLOB_TIMEOUT_MS = 60_000;

/** The SEA configuration file Node.js reads (the fields this build sets). */
export interface SeaConfig {
  readonly main: string;
  readonly output: string;
  readonly disableExperimentalSEAWarning: true;
  readonly useSnapshot: false;
  readonly useCodeCache: false;
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
    useCodeCache: false,
    execArgv: [...nodeOptions],
    execArgvExtension: 'env',
  };
}

/** A preparation blob, made once for every platform. */
export interface SeaBlob {
  readonly blobPath: string;
  readonly config: SeaConfig;
}

/**
 * Writes the SEA preparation blob of `bundlePath` with `nodeOptions` into `workDir` (sea.blob, and
 * its configuration sea-config.json), using `node`, which must be the Node.js version the
 * blob is injected into. Throws with node's output when it fails.
 */
export function writeSeaBlob(node: NodeBinary, bundlePath: string, nodeOptions: readonly string[], workDir: string): SeaBlob {
  fs.mkdirSync(workDir, { recursive: true });
  const blobPath = path.join(workDir, 'sea.blob');
  const configPath = path.join(workDir, 'sea-config.json');
  const config = seaConfig(path.basename(bundlePath), path.relative(path.dirname(bundlePath), blobPath), nodeOptions);
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  fs.rmSync(blobPath, { force: true });
  try {
    execFileSync(node.binaryPath, ['--experimental-sea-config', configPath], { cwd: path.dirname(bundlePath), stdio: ['ignore', 'pipe', 'pipe'], timeout: BLOB_TIMEOUT_MS });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`${node.binaryPath} --experimental-sea-config ${configPath} failed: ${`${stdout ?? ''}${stderr ?? ''}`.trim() || String(err)}`, { cause: err });
  }
  if (!fs.existsSync(blobPath)) throw new Error(`${node.binaryPath} --experimental-sea-config ${configPath} wrote no ${blobPath}`);
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
 * Copies `node`'s binary to `outPath` (mode 0755) and injects `blob` into it. Throws naming the file
 * when postject fails (e.g. the binary has no sentinel fuse: not a Node.js release build).
 */
export async function writeSeaExecutable(node: NodeBinary, blob: SeaBlob, outPath: string): Promise<SeaExecutable> {
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.copyFileSync(node.binaryPath, outPath);
  fs.chmodSync(outPath, 0o755);
  try {
    // postject prints LIEF's warnings about the notes it rewrites on stderr; it fails by throwing.
    await inject(outPath, SEA_RESOURCE_NAME, fs.readFileSync(blob.blobPath), { sentinelFuse: SEA_SENTINEL_FUSE });
  } catch (err) {
    throw new Error(`postject could not inject ${blob.blobPath} into ${outPath} (a copy of ${node.binaryPath}): ${(err as Error).message}`, { cause: err });
  }
  return { path: outPath, sha256: fileSha256(outPath), blobSha256: fileSha256(blob.blobPath), node };
}

/** What writeImageExecutables wrote: one /livenessprobe per platform and Node.js's license. */
export interface ImageExecutables {
  readonly executables: ReadonlyMap<ImagePlatform, SeaExecutable>;
  readonly blob: SeaBlob;
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
 * LICENSE; the blob is written once, by the host's Node.js of .node-version, in `workDir`. Throws
 * when a Node.js binary cannot be had (fetchNodeBinary), the host has no image platform, or a step fails.
 */
export async function writeImageExecutables(contextDir: string, bundlePath: string, nodeOptions: readonly string[], workDir: string): Promise<ImageExecutables> {
  const host = hostPlatform();
  if (!host) throw new Error(`this machine's architecture (${process.arch}) is none of the image's (${IMAGE_PLATFORMS.map(platformName).join(', ')}): its node cannot write the SEA blob`);
  const blob = writeSeaBlob(fetchNodeBinary(host), bundlePath, nodeOptions, workDir);
  const executables = new Map<ImagePlatform, SeaExecutable>();
  for (const platform of IMAGE_PLATFORMS) {
    const node = fetchNodeBinary(platform);
    executables.set(platform, await writeSeaExecutable(node, blob, path.join(contextDir, seaContextFile(platform))));
  }
  const nodeLicensePath = path.join(contextDir, NODE_LICENSE_CONTEXT_FILE);
  fs.copyFileSync(executables.get(host)!.node.licensePath, nodeLicensePath);
  return { executables, blob, nodeLicensePath };
}
