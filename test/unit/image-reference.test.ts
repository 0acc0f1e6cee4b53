// The image reference `npm run image` writes into the archive (issue #27): fully qualified, so that
// podman, skopeo and containerd store it under the name a kubelet asks for. Table test of
// referenceProblem, and the CLI's usage error (exit 2) before anything is built.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { defaultImageReference, referenceProblem } from '../../scripts/image/build';
import { REPO_ROOT } from '../helpers/image';

const ACCEPTED = [
  'registry.example.com/csi-livenessprobe-ts:v0.1.0',
  'registry.k8s.io/sig-storage/livenessprobe:v2.15.0',
  'localhost/csi-livenessprobe-ts:dev',
  'localhost:5000/csi-livenessprobe-ts:v1',
  'docker.io/library/csi-livenessprobe-ts:v1',
  '10.0.0.1:5000/a/b/c:1.0_rc-1',
  'ghcr.io/org/csi__livenessprobe:latest',
  `registry.example.com/csi:${'t'.repeat(122)}`,
  'registry.example.com:65535/csi:v1',
  'Registry.Example.COM/csi:v1',
];

const REJECTED: readonly [string, RegExp][] = [
  ['csi-livenessprobe-ts:v0.1.0', /not <registry>\/<path>:<tag>/],
  ['myorg/csi-livenessprobe-ts:v1', /"myorg" is not a registry host/],
  ['registry.example.com/csi-livenessprobe-ts', /not <registry>\/<path>:<tag>/],
  ['registry.example.com/CSI:v1', /lower-case path/],
  ['registry.example.com/csi@sha256:0123', /no digest/],
  ['registry.example.com/csi:-v1', /not <registry>\/<path>:<tag>/],
  ['registry.example.com//csi:v1', /not <registry>\/<path>:<tag>/],
  ['registry.example.com/csi:v1 ', /not <registry>\/<path>:<tag>/],
  ['reg_istry.example.com/csi:v1', /not a host\[:port\]/],
  [`registry.example.com/csi:${'t'.repeat(129)}`, /not <registry>\/<path>:<tag>/],
  ['', /not <registry>\/<path>:<tag>/],
  // Each platform's image is stored as "<reference>-<architecture>": its tag must fit in 128 characters too.
  [`registry.example.com/csi:${'t'.repeat(123)}`, /tag .*122/],
  // The registry's name limit (255 characters for host and path).
  [`registry.example.com/${'a'.repeat(250)}:v1`, /255/],
  // Host names as the distribution reference grammar has them (buildah rejects these only after the build).
  ['registry..example.com/csi:v1', /not a host\[:port\]/],
  ['.example.com/csi:v1', /not a host\[:port\]/],
  ['-registry.example.com/csi:v1', /not a host\[:port\]/],
  ['registry-.example.com/csi:v1', /not a host\[:port\]/],
  ['registry.example.com:99999/csi:v1', /port/],
];

test('referenceProblem: fully qualified references pass', () => {
  for (const reference of ACCEPTED) assert.equal(referenceProblem(reference), undefined, reference);
});

test('referenceProblem: short names, Docker Hub paths, digests and malformed names are named', () => {
  for (const [reference, problem] of REJECTED) assert.match(referenceProblem(reference) ?? 'accepted', problem, JSON.stringify(reference));
});

test('the default reference is fully qualified', () => {
  assert.equal(referenceProblem(defaultImageReference()), undefined);
});

test('npm run image -- --reference=<short name>: usage error, exit 2, before any build step', () => {
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'image', 'build.js'), '--reference=csi-livenessprobe-ts:v1'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /^npm run image: --reference: "csi-livenessprobe-ts:v1" is not <registry>\/<path>:<tag>/);
  const unknown = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'image', 'build.js'), '--platforms=arm'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /usage: npm run image -- \[--reference=/);
});

test('npm run image -- --help (or -h): the usage on stdout, exit 0, nothing built', () => {
  for (const flag of ['--help', '-h']) {
    const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'image', 'build.js'), flag], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'usage: npm run image -- [--reference=<registry>/<path>:<tag>] [--pull-base]\n');
    assert.equal(result.stderr, '');
  }
});

