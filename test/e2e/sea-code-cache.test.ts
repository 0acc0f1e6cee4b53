// The code cache in each platform's /livenessprobe (issue #33, start-up): V8 takes it only when the
// flags it was written with hash as the executable's do, and refuses it silently otherwise (the
// start then compiles the whole bundle from source, and nothing says so). V8's
// --profile-deserialization, which V8 leaves out of that hash, prints "[Deserializing from <n>
// bytes ...]" when a cache is taken and "[Cached code failed check: <why>]" when it is refused; the
// executables here are built by the image's own steps (scripts/image/sea.ts) with it added to the
// sidecar's V8 options, and each is run once: natively, and linux/arm64 under qemu-user as the
// build runs it. Also: the build writes the same blob twice (the cache's bytes follow V8's seed,
// which the build fixes for its node only).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BUNDLE_FILE_NAME, bundleSidecar, SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { fetchNodeBinary } from '../../scripts/image/node-binary';
import { hostPlatform, IMAGE_PLATFORMS, platformName } from '../../scripts/image/platforms';
import { fileSha256 } from '../../scripts/image/sbom-files';
import { writeSeaBlob, writeSeaExecutable } from '../../scripts/image/sea';
import { makeTempDir } from '../helpers/tmp';

/** V8's option that reports code cache checks; not in the flags hash V8 compares. */
const PROFILE_DESERIALIZATION = '--profile-deserialization';
/** Under qemu a start takes a few seconds; a loaded machine gets a minute. */
const RUN_TIMEOUT_MS = 60_000;

for (const platform of IMAGE_PLATFORMS) {
  test(`${platformName(platform)}: /livenessprobe's code cache of the bundle is taken at start, not refused; written twice, the blob is the same bytes`, async (t) => {
    const dir = makeTempDir(t);
    const { bundlePath } = await bundleSidecar(path.join(dir, 'bundle'));
    const node = fetchNodeBinary(platform);
    const options = [...SIDECAR_NODE_OPTIONS, PROFILE_DESERIALIZATION];
    const blob = writeSeaBlob(node, platform, bundlePath, options, path.join(dir, 'sea-work'));
    const first = fileSha256(blob.blobPath);
    assert.equal(fileSha256(writeSeaBlob(node, platform, bundlePath, options, path.join(dir, 'sea-work')).blobPath), first, 'the second blob is the first\'s bytes (SHA-256)');

    const sea = await writeSeaExecutable(node, blob, path.join(dir, 'livenessprobe'));
    // A foreign platform runs as the build runs it: binfmt_misc's qemu, the loader from the folder the build unpacked.
    const env = platform === hostPlatform() ? process.env : { ...process.env, QEMU_LD_PREFIX: path.join(dir, 'sea-work', `lib-root-${platform.architecture}`) };
    const run = spawnSync(sea.path, ['--version'], { encoding: 'utf8', env, timeout: RUN_TIMEOUT_MS });
    assert.equal(run.status, 0, `${sea.path} --version: ${run.stdout}${run.stderr}`);
    assert.match(run.stdout, new RegExp(`node v[\\d.]+ ${platformName(platform)}\\n`));
    const output = `${run.stdout}${run.stderr}`;
    // Node's own modules' caches fail V8's check under the sidecar's options (they were written without them); the bundle's is the one of its size.
    const bundleCacheLines = output.split('\n').filter((line) => /^\[Deserializing from \d+ bytes/.test(line) && Number(/\d+/.exec(line)![0]) > fs.statSync(bundlePath).size / 4);
    assert.equal(bundleCacheLines.length, 1, `one cache of the ${BUNDLE_FILE_NAME} bundle's size is taken; V8 printed:\n${output}`);
  });
}
