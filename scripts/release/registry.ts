// A release's way to and from an OCI registry: a TCP connection first (so an unreachable registry is
// told apart from one that refuses), then skopeo (Debian's; containers/image, the library podman and
// buildah use) pushes the unpacked layout with --all --preserve-digests, so the registry holds the
// image index's bytes as built and its digest is the one `npm run image` printed; then everything
// the tag names is read back and hashed here: the index by tag, each platform's manifest and
// configuration by digest. skopeo reads credentials as podman does (`skopeo login`, --authfile,
// REGISTRY_AUTH_FILE), so the command handles no secret itself.

import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Layout } from '../image/oci-layout';
import { ReleaseError } from './release-error';

/** A TCP connection to a registry that takes longer is taken for none. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** One push of ~110 MB; half an hour covers a 1 Mbit/s uplink. */
export const PUSH_TIMEOUT_MS = 30 * 60_000;
/** Reading one manifest or configuration back (a few KB). */
const READ_BACK_TIMEOUT_MS = 60_000;
/** Retries skopeo makes of a failed request (a dropped connection), before giving up. */
const PUSH_RETRIES = 2;
/** The largest manifest or configuration read back; this project's are under 5 KB. */
const MAX_READ_BACK_BYTES = 4 * 1024 * 1024;

/** Where and how to reach a registry. */
export interface RegistryTarget {
  /** "<registry>/<path>", no tag: "ghcr.io/example/csi-livenessprobe-ts". */
  readonly repository: string;
  /** Plain HTTP (and no TLS verification): only for a test registry such as one on 127.0.0.1. */
  readonly plainHttp: boolean;
  /** A containers-auth.json file; undefined: skopeo's default (REGISTRY_AUTH_FILE or `skopeo login`'s). */
  readonly authFile?: string;
}

/** The host and port a repository's registry listens on, as containers/image dials it. */
export function registryAddress(target: RegistryTarget): { host: string; port: number } {
  const registry = target.repository.split('/')[0];
  // containers/image sends docker.io to Docker Hub's API host.
  if (registry === 'docker.io') return { host: 'registry-1.docker.io', port: 443 };
  const [host, port] = registry.split(':');
  return { host, port: port === undefined ? (target.plainHttp ? 80 : 443) : Number(port) };
}

/** Throws TOOL_MISSING unless `skopeo --version` runs: without it every push would fail with no message of its own. */
export function requireSkopeo(): void {
  const run = spawnSync('skopeo', ['--version'], { stdio: 'ignore', timeout: READ_BACK_TIMEOUT_MS });
  if (run.status === 0) return;
  const reason = run.error ? run.error.message : run.signal ? `killed by ${run.signal}` : `exit status ${run.status}`;
  throw new ReleaseError('TOOL_MISSING', `skopeo not found or not working (${reason}); install it: apt-get install skopeo; nothing was pushed`, run.error);
}

/** Resolves once a TCP connection to the registry opens; throws REGISTRY_UNREACHABLE naming the error. */
export async function checkReachable(target: RegistryTarget): Promise<void> {
  const { host, port } = registryAddress(target);
  try {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('timeout', () => {
        socket.destroy();
        reject(Object.assign(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' }));
      });
      socket.once('error', reject);
    });
  } catch (err) {
    throw new ReleaseError(
      'REGISTRY_UNREACHABLE',
      `cannot reach the registry of ${target.repository} at ${host}:${port}: ${(err as Error).message}; nothing was pushed; check the registry's host and port, that it is running and that this machine may connect to it, then run the command again`,
      err,
    );
  }
}

/** skopeo's flags for talking to the target registry, `role` being its side of the command. */
function registryFlags(target: RegistryTarget, role: 'dest-' | ''): string[] {
  return [...(target.plainHttp ? [`--${role}tls-verify=false`] : []), ...(target.authFile === undefined ? [] : [`--${role}authfile=${target.authFile}`])];
}

/** The last line skopeo printed with its fatal message unwrapped ("level=fatal msg=..."), or its stderr. */
function skopeoReason(stderr: string): string {
  const line = stderr.trim().split('\n').at(-1) ?? '';
  const fatal = /level=fatal msg="(.*)"\s*$/.exec(line);
  return (fatal ? fatal[1].replace(/\\"/g, '"').replace(/\\n/g, ' ').trim() : line) || 'no message';
}

function runSkopeo(args: readonly string[], timeoutMs: number, maxBuffer: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('skopeo', args, { encoding: 'buffer', timeout: timeoutMs, maxBuffer }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderrText: stderr.toString() }));
      else resolve(stdout);
    });
  });
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/**
 * The digest of what `<repository>:<tag>` names in the registry before a push, or undefined when it
 * cannot be read: an absent tag (the usual case), and also a registry that wants an account to read
 * or speaks another protocol, which the push then reports with its own reason.
 */
export async function publishedIndexDigest(target: RegistryTarget, tag: string): Promise<string | undefined> {
  try {
    return sha256(await runSkopeo(['inspect', '--raw', ...registryFlags(target, ''), `docker://${target.repository}:${tag}`], READ_BACK_TIMEOUT_MS, MAX_READ_BACK_BYTES));
  } catch {
    return undefined;
  }
}

/**
 * Pushes the OCI layout at `layoutDir` (its one image index and every platform) to
 * `<repository>:<tag>`, digests kept. Throws PUSH_REFUSED with skopeo's reason and what to do.
 */
export async function pushLayout(layoutDir: string, target: RegistryTarget, tag: string, layout: Layout): Promise<void> {
  const destination = `${target.repository}:${tag}`;
  const digestFile = path.join(path.dirname(layoutDir), 'pushed-digest');
  try {
    await runSkopeo(
      ['copy', '--quiet', '--all', '--preserve-digests', `--retry-times=${PUSH_RETRIES}`, `--digestfile=${digestFile}`, ...registryFlags(target, 'dest-'), `oci:${layoutDir}`, `docker://${destination}`],
      PUSH_TIMEOUT_MS,
      MAX_READ_BACK_BYTES,
    );
  } catch (err) {
    const e = err as { killed?: boolean; stderrText?: string };
    const reason = e.killed ? `did not complete within ${PUSH_TIMEOUT_MS / 60_000} min` : skopeoReason(e.stderrText ?? '');
    const registry = target.repository.split('/')[0];
    const hint = /server gave HTTP response to HTTPS client/.test(reason)
      ? 'the registry speaks plain HTTP: pass --plain-http if it is a test registry you trust (never for a registry users pull from)'
      : /x509: |tls: failed to verify certificate/.test(reason)
        ? `the registry's TLS certificate is not trusted on this machine: put the CA that signed it in /etc/containers/certs.d/${registry}/ca.crt (containers-certs.d(5); skopeo reads it) and run the command again; --plain-http skips the verification, for a test registry only`
        : /unauthorized|authentication required|denied|forbidden/i.test(reason)
          ? `log in to ${registry} with an account that may push to ${target.repository} (skopeo login, or --authfile=<file>), and check the path`
          : /StatusCode: 405|Method not allowed|unsupported/i.test(reason)
            ? `the registry takes no pushes at ${target.repository} (read-only, or a pull-through mirror): push to the registry itself, and check the path`
            : `check the path ${target.repository} and that the registry takes pushes there`;
    throw new ReleaseError('PUSH_REFUSED', `pushing to ${destination} failed: ${reason}; ${hint}; the tag may be missing or hold an earlier push, so do not announce this release`, err);
  }
  const reported = fs.readFileSync(digestFile, 'utf8').trim();
  if (reported !== layout.indexDigest) {
    throw new ReleaseError('DIGEST_CHANGED', `skopeo pushed ${destination} as ${reported}, not as the archive's image index ${layout.indexDigest}: the digest changed on the way; do not announce this release; report it with the skopeo version (skopeo --version)`);
  }
}

/** The raw bytes of `what` in the registry ("docker://..."; `config` for an image's configuration). */
async function readBack(target: RegistryTarget, reference: string, config: boolean): Promise<Buffer> {
  try {
    return await runSkopeo(['inspect', '--raw', ...(config ? ['--config'] : []), ...registryFlags(target, ''), `docker://${reference}`], READ_BACK_TIMEOUT_MS, MAX_READ_BACK_BYTES);
  } catch (err) {
    const e = err as { killed?: boolean; stderrText?: string };
    const reason = e.killed ? `did not complete within ${READ_BACK_TIMEOUT_MS / 1000} s` : skopeoReason(e.stderrText ?? '');
    throw new ReleaseError('READ_BACK_FAILED', `reading ${config ? 'the configuration of ' : ''}${reference} back from the registry failed: ${reason}; the push said it succeeded, so check the registry (its log, its storage) and run the command again`, err);
  }
}


/** What the registry holds, read back: the digests of the bytes it returned. */
export interface ReadBack {
  readonly indexDigest: string;
  readonly images: readonly { platform: string; manifestDigest: string; configDigest: string }[];
}

/**
 * Reads back what `<repository>:<tag>` names and each of the layout's platforms, hashing the bytes
 * the registry returns. Throws DIGEST_CHANGED naming the first that differs from the layout,
 * READ_BACK_FAILED when the registry does not give it.
 */
export async function verifyPushed(target: RegistryTarget, tag: string, layout: Layout): Promise<ReadBack> {
  const tagged = `${target.repository}:${tag}`;
  const changed = (what: string, found: string, expected: string) =>
    new ReleaseError(
      'DIGEST_CHANGED',
      `the registry's ${what} is ${found}, not the archive's ${expected}: the registry changed the bytes or another push replaced the tag; the release is not what was built, so do not announce it; find out what else pushes to ${target.repository} (the registry's log) and run the command again`,
    );
  const indexDigest = sha256(await readBack(target, tagged, false));
  if (indexDigest !== layout.indexDigest) throw changed(`${tagged}`, indexDigest, `image index ${layout.indexDigest}`);
  const images = [];
  for (const image of layout.images) {
    const platform = `${image.os}/${image.architecture}`;
    const byDigest = `${target.repository}@${image.manifestDigest}`;
    const manifestDigest = sha256(await readBack(target, byDigest, false));
    if (manifestDigest !== image.manifestDigest) throw changed(`${platform} manifest ${byDigest}`, manifestDigest, image.manifestDigest);
    const configDigest = sha256(await readBack(target, byDigest, true));
    if (configDigest !== image.configDigest) throw changed(`${platform} configuration`, configDigest, image.configDigest);
    images.push({ platform, manifestDigest, configDigest });
  }
  return { indexDigest, images };
}
