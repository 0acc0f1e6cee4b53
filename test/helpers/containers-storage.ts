// A containers storage (podman, buildah, skopeo) of a test's own, so what it pulls comes from where
// the test says and nothing of the machine's storage (the build's images) stands in for it.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { containerToolEnv } from '../../scripts/image/container-tools';

/** Writes a storage.conf for an overlay storage with graph and run roots under `dir`; returns its path (for CONTAINERS_STORAGE_CONF). */
export function ownStorage(dir: string): string {
  const conf = path.join(dir, 'storage.conf');
  fs.writeFileSync(conf, ['[storage]', 'driver = "overlay"', `graphroot = "${dir}/graph"`, `runroot = "${dir}/run"`, ''].join('\n'));
  return conf;
}

/** Removes a storage of ours: its images through buildah, then unmounts anything still mounted under it (the caller removes the folder). */
export function removeStorage(storageConf: string): void {
  const env = { ...containerToolEnv(), CONTAINERS_STORAGE_CONF: storageConf };
  try {
    execFileSync('buildah', ['rmi', '--all', '--force'], { env, stdio: 'ignore' });
  } catch {
    // nothing stored, or already gone: the folder goes below either way
  }
  const dir = path.dirname(storageConf);
  const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((line) => line.split(' ')[1]).filter((point) => point?.startsWith(`${dir}/`));
  for (const point of mounts.reverse()) execFileSync('umount', ['--lazy', point]);
}
