// The entries of a tar archive (ustar, GNU long names, PAX extended headers), read in memory so that
// two archives can be compared field by field: what `tar -tv` shows, the extended records, the content.
// Written by hand: the comparison needs every header field, and node has no tar reader; the npm tar
// readers stream entries and hide the extended records this comparison must see.

const BLOCK = 512;

export interface TarEntry {
  /** The path, after a PAX "path" or a GNU long-name record. */
  readonly name: string;
  /** The type flag: "0" file, "2" symlink, "5" directory, ... */
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  readonly mtime: string;
  readonly linkname: string;
  readonly uname: string;
  readonly gname: string;
  /** The PAX extended records that applied to this entry, as written. */
  readonly pax: Readonly<Record<string, string>>;
  readonly content: Buffer;
}

function text(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** An octal numeric field, or GNU's base-256 form (high bit of the first byte set). */
function numberField(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0] & 0x80) return Number(field.subarray(1).readUIntBE(length - 7, 6));
  const digits = text(block, offset, length).trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

/** PAX records: "<length> <key>=<value>\n" repeated. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(length) || length <= 0) throw new Error(`PAX record at byte ${at}: bad length`);
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

/** Every entry of the uncompressed tar `archive`, in order; throws on a header whose checksum is wrong. */
export function readTarEntries(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (let at = 0; at + BLOCK <= archive.length; ) {
    const header = archive.subarray(at, at + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const stored = numberField(header, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i += 1) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    if (sum !== stored) throw new Error(`tar header at byte ${at}: checksum ${stored}, computed ${sum}`);
    const type = String.fromCharCode(header[156] || 0x30);
    const size = numberField(header, 124, 12);
    const content = archive.subarray(at + BLOCK, at + BLOCK + size);
    at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      pax = { ...pax, ...paxRecords(content) };
      continue;
    }
    if (type === 'g') continue; // global records: none of the compared archives' entries depend on them
    if (type === 'L' || type === 'K') {
      const value = content.toString('utf8').replace(/\0+$/, '');
      if (type === 'L') longName = value;
      else longLink = value;
      continue;
    }
    const prefix = text(header, 345, 155);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
    entries.push({
      name,
      type,
      mode: numberField(header, 100, 8),
      uid: numberField(header, 108, 8),
      gid: numberField(header, 116, 8),
      size,
      mtime: pax.mtime ?? String(numberField(header, 136, 12)),
      linkname: pax.linkpath ?? longLink ?? text(header, 157, 100),
      uname: pax.uname ?? text(header, 265, 32),
      gname: pax.gname ?? text(header, 297, 32),
      pax,
      content,
    });
    pax = {};
    longName = undefined;
    longLink = undefined;
  }
  return entries;
}
