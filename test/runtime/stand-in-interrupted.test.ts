// A stand-in base assembly interrupted (Ctrl-C or a killed CI job during `npm run image`: no finally
// runs) leaves its buildah working container and its file tree behind; the next assembly of
// that platform clears both (scripts/image/stand-in-base.ts clearInterruptedAssembly, which
// ensureStandInBase calls first). Real buildah, in the storage the environment names.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runContainerTool } from '../../scripts/image/container-tools';
import { hostPlatform } from '../../scripts/image/platforms';
import { clearInterruptedAssembly, standInContainerName, standInWorkDir } from '../../scripts/image/stand-in-base';

test('what an interrupted stand-in assembly left (its working container, its file tree) is cleared before the next one', () => {
  const platform = hostPlatform()!;
  const name = standInContainerName(platform);
  const work = standInWorkDir(platform);
  assert.ok(work.startsWith(path.resolve(__dirname, '..', '..', '..', 'dist')), `${work} is inside the build's dist folder, not a temporary folder nobody clears`);
  // The state a build killed between `buildah from` and `buildah commit` leaves.
  runContainerTool('buildah', ['from', '--pull=never', '--name', name, 'scratch']);
  fs.mkdirSync(path.join(work, 'rootfs', 'nodejs', 'bin'), { recursive: true });
  fs.writeFileSync(path.join(work, 'rootfs', 'nodejs', 'bin', 'node'), 'half-copied');
  try {
    clearInterruptedAssembly(platform);
    const containers = runContainerTool('buildah', ['containers', '--format', '{{.ContainerName}}']).split('\n');
    assert.ok(!containers.includes(name), `working container ${name} left: ${containers.join(', ')}`);
    assert.equal(fs.existsSync(work), false, `${work} left`);
    clearInterruptedAssembly(platform); // nothing left: no error
  } finally {
    try {
      runContainerTool('buildah', ['rm', name]);
    } catch {
      // cleared
    }
  }
});
