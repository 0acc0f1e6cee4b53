// The software bill of materials of one platform's image: CycloneDX 1.6 JSON, made with the OWASP
// CycloneDX project's own library (@cyclonedx/cyclonedx-library: its models, its serializer, and in the
// tests its validator against the CycloneDX JSON schema it ships, so validation needs no network).
//
// Why CycloneDX and not SPDX 2.3, which Kubernetes' release images carry: npm has no well-kept library
// that writes or validates SPDX 2.3 documents (npm's own `npm sbom` writes both formats but is a command,
// not a library), while CycloneDX's official library does both offline; vulnerability scanners (Trivy,
// Grype, Dependency-Track) read CycloneDX as readily as SPDX.
//
// What it lists, one flat list of components, each marked with the part of the image it belongs to
// (property "csi-livenessprobe-ts:part"):
//   metadata.component  the sidecar, the executable /livenessprobe: version, git commit, its SHA-256,
//                       and what it is made of: the bundle's SHA-256, the SEA blob's, the V8 options
//   part "node"         the Node.js binary inside /livenessprobe (scripts/image/sea.ts): version,
//                       license, the SHA-256 of the official binary before the bundle was injected
//                       (the one Node.js's release lists)
//   part "debian"       every Debian package whose files the stand-in base carries: name, version,
//                       architecture (in the purl), the license its copyright file declares in
//                       Debian's machine-readable format, else none and a "NOASSERTION: <why>" property
//                       (CycloneDX has no NOASSERTION value: a component without licenses claims none)
//   part "npm"          every npm package compiled into the bundle (esbuild's metafile, with
//                       package-lock.json's version, license and integrity)
// On a pulled base (npm run image -- --pull-base, or the Dockerfile built by docker with npm run
// build's SBOMs) this build did not assemble the base and does not know what is in it: the base is one
// component of type "container", its contents marked "not listed", and there are no debian
// components; Node.js is listed either way, since it is in /livenessprobe, which this build made.
// Nothing is claimed that was not seen.
//
// Reproducible, since it is inside the image: the timestamp is SOURCE_DATE_EPOCH, lists are sorted, and
// the serial number is a UUID v5 (RFC 9562) of the document itself, not a random one.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Contrib, Enums, Models, Serialize, Spec } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import spdxExpressionParse from 'spdx-expression-parse';
import type { BundledPackage } from '../bundled-packages';
import type { DebianLicense } from './debian-copyright';
import type { DebianPackage } from './debian-packages';
import type { NodeBinary } from './node-binary';
import { ImagePlatform, platformName } from './platforms';

/** The CycloneDX version written and validated against. */
export const SBOM_SPEC = Spec.Spec1dot6;
/** Where each platform's image carries its SBOM (the Dockerfile's COPY puts it there). */
export const SBOM_IMAGE_PATH = '/sbom/csi-livenessprobe-ts.cdx.json';
/** Prefix of this project's CycloneDX property names (the property taxonomy asks for a namespace). */
export const PROPERTY_PREFIX = 'csi-livenessprobe-ts:';
/** The parts of the image a component can belong to (property PROPERTY_PREFIX + "part"). */
export type SbomPart = 'node' | 'debian' | 'npm' | 'base';
/** Where the sidecar is in the image (the Dockerfile's COPY destination): Node.js and the bundle in one file. */
const EXECUTABLE_IMAGE_PATH = '/livenessprobe';
/** RFC 9562's namespace for names that are URLs; the SBOM's serial is the v5 UUID of its own text in it. */
const UUID_URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** The file of `platform`'s SBOM in the build context (the Dockerfile copies sbom/${TARGETARCH}.cdx.json). */
export function sbomContextFile(platform: ImagePlatform): string {
  return path.join('sbom', `${platform.architecture}.cdx.json`);
}

/** The sidecar as built. */
export interface SidecarFacts {
  readonly name: string;
  readonly version: string;
  /** package.json's license (an SPDX id). */
  readonly license: string;
  /** The full git commit the bundle was built from, or '' when not built from a git checkout. */
  readonly gitCommit: string;
  /** True when tracked or untracked files differed from the commit: the bundle is not the commit's alone. */
  readonly gitTreeModified: boolean;
  /** SHA-256 (hex) of the bundle /livenessprobe carries. */
  readonly bundleSha256: string;
}

/** One platform's /livenessprobe (scripts/image/sea.ts): Node.js with the bundle injected. */
export interface ExecutableFacts {
  /** SHA-256 (hex) of /livenessprobe. */
  readonly sha256: string;
  /** SHA-256 (hex) of the SEA blob injected (the bundle, its V8 code cache and the V8 options). */
  readonly blobSha256: string;
  /** The V8 options it starts with (the SEA configuration's execArgv). */
  readonly nodeOptions: readonly string[];
  /** The official Node.js binary it was made from. */
  readonly node: NodeBinary;
}

/** One Debian package of a stand-in base and what its copyright file declares. */
export interface DebianPackageFacts {
  readonly deb: DebianPackage;
  readonly license: DebianLicense;
  /** SHA-256 (hex) of the .deb file apt downloaded. */
  readonly debSha256: string;
}

/** The base of one platform's image: a stand-in this build assembled (its parts known) or a pulled image (not). */
export type BaseFacts =
  | { readonly kind: 'stand-in'; readonly image: string; readonly debianPackages: readonly DebianPackageFacts[] }
  | { readonly kind: 'pulled'; readonly image: string };

export interface ImageSbomFacts {
  readonly platform: ImagePlatform;
  readonly sourceDateEpochS: number;
  readonly sidecar: SidecarFacts;
  readonly executable: ExecutableFacts;
  readonly npmPackages: readonly BundledPackage[];
  readonly base: BaseFacts;
}

const licenseFactory = new Contrib.License.Factories.LicenseFactory((expression: string) => void spdxExpressionParse(expression));

function properties(entries: Record<string, string>): Models.PropertyRepository {
  return new Models.PropertyRepository(Object.entries(entries).map(([name, value]) => new Models.Property(`${PROPERTY_PREFIX}${name}`, value)));
}

function licenses(values: readonly (string | undefined)[]): Models.LicenseRepository {
  const repository = new Models.LicenseRepository();
  for (const value of values) {
    if (!value) continue;
    const license = licenseFactory.makeFromString(value);
    license.acknowledgement = Enums.LicenseAcknowledgement.Declared;
    repository.add(license);
  }
  return repository;
}

/** "sha512-<base64>" (an npm integrity) as [algorithm, hex]; throws on another algorithm. */
function integrityHash(integrity: string): Models.Hash {
  const match = /^sha512-([A-Za-z0-9+/]+={0,2})$/.exec(integrity);
  if (!match) throw new Error(`integrity ${integrity}: expected one sha512-<base64> (package-lock.json's form)`);
  return [Enums.HashAlgorithm['SHA-512'], Buffer.from(match[1], 'base64').toString('hex')];
}

/**
 * `purl` as a string in the purl specification's canonical form: packageurl-js 2 leaves a '+' of the
 * version as it is ("2.36-9+deb12u14"), which the specification now requires percent-encoded (%2B,
 * as it already is in names: "libstdc%2B%2B6"). A '+' is never a purl separator, so every one is encoded.
 */
function purlString(purl: PackageURL): string {
  return purl.toString().replace(/\+/g, '%2B');
}

function npmComponent(bundled: BundledPackage): Models.Component {
  const [group, name] = bundled.name.startsWith('@') ? bundled.name.split('/') : [undefined, bundled.name];
  const purl = purlString(new PackageURL('npm', group, name, bundled.version, undefined, undefined));
  return new Models.Component(Enums.ComponentType.Library, name, {
    group,
    version: bundled.version,
    bomRef: purl,
    purl,
    hashes: new Models.HashDictionary([integrityHash(bundled.integrity)]),
    licenses: licenses([bundled.license]),
    properties: properties({ part: 'npm' }),
  });
}

function nodeComponent(node: NodeBinary, platform: ImagePlatform): Models.Component {
  const purl = purlString(new PackageURL('npm', undefined, node.packageName, node.version, undefined, undefined));
  return new Models.Component(Enums.ComponentType.Platform, 'node', {
    version: node.version,
    bomRef: purl,
    // The npm package the binary came from; the CPE is the name vulnerability databases give Node.js.
    purl,
    cpe: `cpe:2.3:a:nodejs:node.js:${node.version}:*:*:*:*:*:*:*`,
    description: `Node.js ${node.version} for ${platformName(platform)}, the official release binary (npm package ${node.packageName}), inside ${EXECUTABLE_IMAGE_PATH} with the sidecar's bundle injected`,
    // The binary's own hash, as Node.js's release lists it: /livenessprobe's is the sidecar component's.
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], node.sha256]]),
    licenses: licenses([node.license]),
    properties: properties({ part: 'node', path: EXECUTABLE_IMAGE_PATH, embedding: 'single executable application: the bundle injected as the ELF note NODE_SEA_BLOB; the hash is of the binary before', 'npm-integrity': node.integrity }),
  });
}

function debianComponent(facts: DebianPackageFacts): Models.Component {
  const { deb, license } = facts;
  const purl = purlString(new PackageURL('deb', 'debian', deb.name, deb.version, { arch: deb.architecture, distro: 'debian-12' }, undefined));
  return new Models.Component(Enums.ComponentType.Library, deb.name, {
    version: deb.version,
    bomRef: purl,
    purl,
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], facts.debSha256]]),
    licenses: licenses(license.kind === 'declared' ? [...license.licenses].map((name) => name) : []),
    properties: properties({ part: 'debian', ...(license.kind === 'noassertion' ? { license: `NOASSERTION: ${license.reason}` } : {}) }),
  });
}

/** The Dockerfile's FROM ("gcr.io/distroless/cc-debian12:nonroot") as a component whose contents this build does not know. */
function pulledBaseComponent(image: string): Models.Component {
  const tagAt = image.lastIndexOf(':') > image.lastIndexOf('/') ? image.lastIndexOf(':') : -1;
  return new Models.Component(Enums.ComponentType.Container, tagAt < 0 ? image : image.slice(0, tagAt), {
    version: tagAt < 0 ? undefined : image.slice(tagAt + 1),
    bomRef: `base:${image}`,
    description: `the base image ${image}, pulled from its registry: its files (Debian packages) are not listed here; see its publisher's SBOM or scan it`,
    properties: properties({ part: 'base', contents: 'not listed' }),
  });
}

/** The version of the CycloneDX library that writes the SBOM, for metadata.tools. */
function cyclonedxLibraryVersion(): string {
  return (JSON.parse(fs.readFileSync(require.resolve('@cyclonedx/cyclonedx-library/package.json'), 'utf8')) as { version: string }).version;
}

/** The SBOM of `facts.platform`'s image as a CycloneDX model (serializeSbom writes it). */
export function imageSbom(facts: ImageSbomFacts): Models.Bom {
  const { sidecar, base, platform, executable } = facts;
  const sidecarComponent = new Models.Component(Enums.ComponentType.Application, sidecar.name, {
    version: sidecar.version,
    bomRef: sidecar.name,
    description: `the Kubernetes CSI liveness probe sidecar: ${EXECUTABLE_IMAGE_PATH}, Node.js (the node component) with the sidecar's esbuild bundle and V8 options injected as a single executable application`,
    hashes: new Models.HashDictionary([[Enums.HashAlgorithm['SHA-256'], executable.sha256]]),
    licenses: licenses([sidecar.license]),
    properties: properties({
      'git-commit': sidecar.gitCommit || 'unknown: not built from a git checkout',
      'git-tree': sidecar.gitTreeModified ? 'modified: built with changes not in the commit' : 'clean',
      path: EXECUTABLE_IMAGE_PATH,
      'bundle-sha256': sidecar.bundleSha256,
      'sea-blob-sha256': executable.blobSha256,
      'node-options': executable.nodeOptions.join(' '),
      platform: platformName(platform),
      'base-image': base.image,
      'base-contents': base.kind === 'stand-in' ? 'listed: a stand-in assembled by npm run image from the debian components' : 'not listed: a pulled base, see the base component',
    }),
  });
  const components = [
    ...facts.npmPackages.map(npmComponent),
    nodeComponent(executable.node, platform),
    ...(base.kind === 'stand-in' ? base.debianPackages.map(debianComponent) : [pulledBaseComponent(base.image)]),
  ];
  const tool = new Models.Component(Enums.ComponentType.Library, 'cyclonedx-library', { group: '@cyclonedx', version: cyclonedxLibraryVersion() });
  return new Models.Bom({
    metadata: new Models.Metadata({
      timestamp: new Date(facts.sourceDateEpochS * 1000),
      component: sidecarComponent,
      tools: new Models.Tools({ components: new Models.ComponentRepository([tool]) }),
    }),
    components: new Models.ComponentRepository(components),
  });
}

/** A version 5 UUID (RFC 9562 section 5.5) of `name` in `namespace`. */
function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The SBOM as CycloneDX JSON text, its lists sorted and its serial number the v5 UUID of the
 * document written without one: the same facts give the same bytes.
 */
export function serializeSbom(bom: Models.Bom): string {
  const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(SBOM_SPEC));
  bom.serialNumber = undefined;
  const unnumbered = serializer.serialize(bom, { sortLists: true, space: 2 });
  bom.serialNumber = `urn:uuid:${uuidV5(UUID_URL_NAMESPACE, unnumbered)}`;
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}
