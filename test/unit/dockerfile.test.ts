// The Dockerfile, parsed (dockerfile-ast) and held to the rules issue #6 sets:
// multi-stage, distroless Node.js runtime, UID 65532, exec-form ENTRYPOINT with
// the benchmark's V8 options, nothing in the runtime stage that needs a shell.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import packageJson from '../../package.json';
import { SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { DOCKERFILE_PATH, IMAGE_NODE_PATH, readImageEntrypoint, readImageStages, REPO_ROOT } from '../helpers/image';

const ENGINES_NODE_MAJOR = /\d+/.exec(packageJson.engines.node)![0];

/** The arguments of a stage's `keyword` instructions, flags (--from=...) included. */
const argumentsOf = (keyword: string, stage = readImageStages().at(-1)!) =>
  stage.instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getTextContent().trim().slice(keyword.length).trim());

test('two stages; every base image names a tag, none "latest"', () => {
  const stages = readImageStages();
  assert.equal(stages.length, 2);
  for (const { image } of stages) assert.match(image, /^[^:]+:(?!latest$)[\w.-]+$/, image);
});

test('runtime: distroless Node.js of the supported major, non-root UID 65532, no RUN (no shell there)', () => {
  const runtime = readImageStages().at(-1)!;
  assert.match(runtime.image, new RegExp(`^gcr\\.io/distroless/nodejs${ENGINES_NODE_MAJOR}-debian\\d+:nonroot$`));
  assert.deepEqual(argumentsOf('USER'), ['65532:65532']);
  assert.deepEqual(argumentsOf('RUN'), []);
  assert.deepEqual(argumentsOf('CMD'), [], 'manifests pass args; a CMD would be prepended to them');
});

test('ENTRYPOINT: exec form, node with the V8 options of bin/csi-livenessprobe.js, then the bundle the build stage made', () => {
  const entrypoint = readImageEntrypoint();
  assert.equal(entrypoint[0], IMAGE_NODE_PATH);
  assert.deepEqual(entrypoint.slice(1, -1), SIDECAR_NODE_OPTIONS);
  assert.ok(SIDECAR_NODE_OPTIONS.length > 0, 'the bin line names V8 options');
  const script = entrypoint.at(-1)!;
  const copies = argumentsOf('COPY').map((args) => args.split(/\s+/));
  const bundleCopy = copies.find((parts) => parts.at(-1) === script);
  assert.ok(bundleCopy, `no COPY puts anything at ${script}`);
  assert.equal(bundleCopy[0], '--from=build');
  const buildStage = readImageStages()[0];
  assert.equal(buildStage.name, 'build');
  const bundleDir = path.posix.dirname(bundleCopy[1]);
  assert.ok(
    argumentsOf('RUN', buildStage).some((run) => run.includes(`node dist/scripts/bundle.js --out ${bundleDir}`)),
    `the build stage does not bundle into ${bundleDir}`,
  );
});

test('build stage: every file it copies from the context exists and is not excluded by .dockerignore', () => {
  const ignored = fs.readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').filter(Boolean);
  const buildStage = readImageStages()[0];
  for (const args of argumentsOf('COPY', buildStage)) {
    const sources = args.split(/\s+/).filter((part) => !part.startsWith('--')).slice(0, -1);
    for (const source of sources) {
      assert.ok(fs.existsSync(path.join(REPO_ROOT, source)), `COPY ${source}: not in the repository`);
      assert.ok(!ignored.includes(source), `COPY ${source}: excluded by .dockerignore`);
    }
  }
  assert.ok(ignored.includes('node_modules') && ignored.includes('dist'), 'node_modules and dist stay out of the build context');
  assert.ok(fs.existsSync(DOCKERFILE_PATH));
});

test('one Node.js version: CI runs .node-version, the build stage uses it exactly, the runtime and engines its major', () => {
  const version = fs.readFileSync(path.join(REPO_ROOT, '.node-version'), 'utf8').trim();
  assert.match(version, /^\d+\.\d+\.\d+$/);
  const [build, runtime] = readImageStages();
  assert.equal(build.image, `node:${version}-bookworm-slim`);
  assert.equal(version.split('.')[0], ENGINES_NODE_MAJOR);
  assert.match(runtime.image, new RegExp(`nodejs${ENGINES_NODE_MAJOR}-`));
  assert.match(fs.readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8'), /NODE_VERSION="\$\(cat \.node-version\)"/);
});
