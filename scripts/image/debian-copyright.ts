// The license a Debian package declares, read from its copyright file (./usr/share/doc/<package>/copyright
// inside the .deb; the stand-in base leaves usr/share/doc out of its files, so the .deb is where it is).
// Only a file in Debian's machine-readable format (DEP-5, "Format: https://www.debian.org/doc/
// packaging-manuals/copyright-format/1.0/") states licenses a program can read: its Files paragraphs'
// License fields, as short names ("GPL-2+", "LGPL-2.1+ or BSD-3-clause"). A free-text file, or none in
// the package (libgcc-s1's and libstdc++6's doc folder is a link to gcc-12-base's, another package),
// states none that can be read without a person: NOASSERTION, with the reason.
//
// Written by hand: the format is a dozen lines of RFC 822-style paragraphs, and the npm packages that
// read Debian control files parse package indexes, not copyright files.

import { execFileSync } from 'node:child_process';
import type { DebianPackage } from './debian-packages';

/** The first line of a DEP-5 file; any version 1.x of the format URL (http or https) is accepted. */
const DEP5_FORMAT = /^Format:\s*https?:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.\d+\/?\s*$/m;
/** libc6's fsys tar is ~13 MB; its copyright file ~70 KB. */
const MAX_TAR_BYTES = 256 * 1024 * 1024;

/** What a package's copyright file declares. */
export type DebianLicense =
  | { readonly kind: 'declared'; readonly licenses: readonly string[] }
  | { readonly kind: 'noassertion'; readonly reason: string };

/** The paragraphs of a DEP-5 file: blank-line separated, each a map of field name (lower-case) to value (continuation lines joined with "\n"). */
function paragraphsOf(text: string): Map<string, string>[] {
  const paragraphs: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  let field: string | undefined;
  for (const line of text.split('\n')) {
    if (/^\s*$/.test(line)) {
      current = undefined;
      field = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      if (current && field) current.set(field, `${current.get(field)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // not a field: DEP-5 has none such, a free-text file is caught by its first line
    if (!current) paragraphs.push((current = new Map()));
    field = line.slice(0, colon).toLowerCase();
    current.set(field, line.slice(colon + 1).trim());
  }
  return paragraphs;
}

/**
 * The licenses a copyright file declares, sorted and without repeats, or undefined when it is not in
 * the machine-readable format. DEP-5: the header's License (when given) and every Files paragraph's
 * License, whose first line is the short name; stand-alone License paragraphs only hold texts.
 */
export function declaredLicenses(copyrightText: string): string[] | undefined {
  const paragraphs = paragraphsOf(copyrightText);
  const header = paragraphs[0];
  if (!header?.has('format') || !DEP5_FORMAT.test(`Format: ${header.get('format')}`)) return undefined;
  const names = new Set<string>();
  for (const [index, paragraph] of paragraphs.entries()) {
    if (index > 0 && !paragraph.has('files')) continue;
    const license = paragraph.get('license')?.split('\n')[0].trim();
    if (license) names.add(license);
  }
  return [...names].sort();
}

/** The data tar of `deb` (dpkg-deb --fsys-tarfile). */
function dataTarOf(deb: DebianPackage): Buffer {
  return execFileSync('dpkg-deb', ['--fsys-tarfile', deb.debPath], { maxBuffer: MAX_TAR_BYTES });
}

/** One member of a tar, or undefined when it has no such regular file. */
function tarMember(tar: Buffer, member: string): Buffer | undefined {
  try {
    return execFileSync('tar', ['-xO', '-f', '-', member], { input: tar, maxBuffer: MAX_TAR_BYTES, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** The verbose listing line of a tar member ("lrwxrwxrwx root/root 0 ... ./usr/share/doc/x -> y"), or undefined. */
function tarListing(tar: Buffer, member: string): string | undefined {
  try {
    return execFileSync('tar', ['-tv', '-f', '-', member], { input: tar, encoding: 'utf8', maxBuffer: MAX_TAR_BYTES, stdio: ['pipe', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** What `deb`'s copyright file declares (see the header); throws only when dpkg-deb cannot read the package. */
export function debianLicense(deb: DebianPackage): DebianLicense {
  const tar = dataTarOf(deb);
  const docDir = `./usr/share/doc/${deb.name}`;
  const copyright = tarMember(tar, `${docDir}/copyright`);
  if (!copyright) {
    const link = / -> (.+)$/.exec((tarListing(tar, docDir) ?? '').split('\n')[0])?.[1];
    const reason = link
      ? `${deb.name}'s ${docDir.slice(1)} is a link to ${link}, whose copyright file is in another package`
      : `${deb.name} has no ${docDir.slice(1)}/copyright`;
    return { kind: 'noassertion', reason };
  }
  const licenses = declaredLicenses(copyright.toString('utf8'));
  if (!licenses || licenses.length === 0) return { kind: 'noassertion', reason: `${docDir.slice(1)}/copyright is not in Debian's machine-readable format (DEP-5)` };
  return { kind: 'declared', licenses };
}
