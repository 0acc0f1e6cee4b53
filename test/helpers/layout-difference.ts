// The first difference between two builds' OCI image layouts (or their archives), named as precisely
// as it can be: the JSON field of the index, a manifest or a configuration ("linux/arm64 config:
// .created: ... vs ..."), or a layer's tar entry and header field ("linux/amd64 layer 1: entry
// usr/lib/x.so: mtime 1 vs 2"). The walk follows the documents: a descriptor whose digest differs is
// opened and compared in turn, so the difference named is the cause, not the digests it changed.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readTarEntries, TarEntry } from './tar-entries';

interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { os: string; architecture: string };
}

const JSON_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.config.v1+json',
]);

const show = (value: unknown) => (value === undefined ? 'absent' : JSON.stringify(value).slice(0, 200));
const isDescriptor = (value: unknown): value is Descriptor =>
  typeof value === 'object' && value !== null && typeof (value as Descriptor).digest === 'string' && typeof (value as Descriptor).mediaType === 'string';

function blob(layoutDir: string, digest: string): Buffer {
  const [algorithm, hex] = digest.split(':');
  return fs.readFileSync(path.join(layoutDir, 'blobs', algorithm, hex));
}

/** The first differing field of two JSON values, in document order; descriptors that differ are opened. */
function jsonDifference(dirA: string, dirB: string, label: string, a: unknown, b: unknown, at = ''): string | undefined {
  if (isDescriptor(a) && isDescriptor(b) && a.digest !== b.digest && a.mediaType === b.mediaType) {
    const where = a.platform ? `${label} ${a.platform.os}/${a.platform.architecture}` : label;
    return descriptorDifference(dirA, dirB, `${where}${at}`, a, b) ?? `${where}${at}.digest: ${a.digest} vs ${b.digest}`;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return JSON.stringify(a) === JSON.stringify(b) ? undefined : `${label}${at || ' (whole document)'}: ${show(a)} vs ${show(b)}`;
  }
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const key of keys) {
    const step = Array.isArray(a) ? `[${key}]` : `.${key}`;
    const found = jsonDifference(dirA, dirB, label, (a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}${step}`);
    if (found) return found;
  }
  return undefined;
}

/** The first difference of two blobs of the same media type, opened as JSON or as a gzip'd tar layer. */
function descriptorDifference(dirA: string, dirB: string, label: string, a: Descriptor, b: Descriptor): string | undefined {
  const blobA = blob(dirA, a.digest);
  const blobB = blob(dirB, b.digest);
  if (JSON_MEDIA_TYPES.has(a.mediaType)) {
    const kind = a.mediaType.split('.').at(-2)!.replace(/\.v1\+json$/, '');
    return jsonDifference(dirA, dirB, `${label} ${kind.split('.')[0]}`, JSON.parse(blobA.toString('utf8')), JSON.parse(blobB.toString('utf8')));
  }
  if (a.mediaType.endsWith('tar+gzip') || a.mediaType.endsWith('tar')) {
    const tarA = a.mediaType.endsWith('gzip') ? gunzipSync(blobA) : blobA;
    const tarB = b.mediaType.endsWith('gzip') ? gunzipSync(blobB) : blobB;
    const inTar = tarDifference(tarA, tarB);
    return `${label} layer ${a.digest.slice(0, 19)}: ${inTar ?? 'the same tar, compressed to other bytes'}`;
  }
  return `${label}: blob ${a.digest} vs ${b.digest} (${a.mediaType})`;
}

const ENTRY_FIELDS = ['type', 'mode', 'uid', 'gid', 'size', 'mtime', 'linkname', 'uname', 'gname', 'pax'] as const;

/** The first entry of two tars that differs, and how: its name, a header field, or its content. */
export function tarDifference(tarA: Buffer, tarB: Buffer): string | undefined {
  const entriesA = readTarEntries(tarA);
  const entriesB = readTarEntries(tarB);
  for (let i = 0; i < Math.max(entriesA.length, entriesB.length); i += 1) {
    const a: TarEntry | undefined = entriesA[i];
    const b: TarEntry | undefined = entriesB[i];
    if (!a || !b) return `entry ${i}: ${a ? a.name : 'none'} vs ${b ? b.name : 'none'} (${entriesA.length} vs ${entriesB.length} entries)`;
    if (a.name !== b.name) return `entry ${i}: name ${a.name} vs ${b.name}`;
    for (const field of ENTRY_FIELDS) {
      if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) return `entry ${a.name}: ${field} ${show(a[field])} vs ${show(b[field])}`;
    }
    if (!a.content.equals(b.content)) {
      const sha = (content: Buffer) => createHash('sha256').update(content).digest('hex').slice(0, 16);
      return `entry ${a.name}: content sha256 ${sha(a.content)}... vs ${sha(b.content)}...`;
    }
  }
  return tarA.equals(tarB) ? undefined : 'the same entries, other bytes between them (padding or end blocks)';
}

/** The first difference between two OCI layouts: the files each has, then index.json and everything it leads to. */
export function layoutDifference(dirA: string, dirB: string): string | undefined {
  const files = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((name) => fs.statSync(path.join(dir, name)).isFile()).sort();
  const indexA = JSON.parse(fs.readFileSync(path.join(dirA, 'index.json'), 'utf8')) as unknown;
  const indexB = JSON.parse(fs.readFileSync(path.join(dirB, 'index.json'), 'utf8')) as unknown;
  const inIndex = jsonDifference(dirA, dirB, 'index.json', indexA, indexB);
  if (inIndex) return inIndex;
  const filesA = files(dirA);
  const filesB = files(dirB);
  const onlyA = filesA.filter((name) => !filesB.includes(name));
  const onlyB = filesB.filter((name) => !filesA.includes(name));
  if (onlyA.length > 0 || onlyB.length > 0) return `layout files: only in the first ${show(onlyA)}, only in the second ${show(onlyB)}`;
  for (const name of filesA) if (!fs.readFileSync(path.join(dirA, name)).equals(fs.readFileSync(path.join(dirB, name)))) return `layout file ${name} differs`;
  return undefined;
}
