import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { formatMebibytes, readContainerMemoryLimit } from '../../src/memory-limit';
import { makeTempDir } from '../helpers/tmp';

/** Lays out files under a root of the test's own: { 'proc/self/cgroup': '...' }. */
function layOut(root: string, files: Record<string, string>): string {
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

test('cgroup v2: memory.max of the cgroup, the smallest up the tree; "max" is no limit (#20)', (t) => {
  const root = layOut(makeTempDir(t), {
    'proc/self/cgroup': '0::/kubepods/pod1/sidecar\n',
    'sys/fs/cgroup/cgroup.controllers': 'cpu memory pids\n',
    'sys/fs/cgroup/kubepods/memory.max': 'max\n',
    'sys/fs/cgroup/kubepods/pod1/memory.max': '31457280\n',
    'sys/fs/cgroup/kubepods/pod1/sidecar/memory.max': '134217728\n',
  });
  assert.equal(readContainerMemoryLimit(root), 31457280);
  fs.writeFileSync(path.join(root, 'sys/fs/cgroup/kubepods/pod1/memory.max'), 'max\n');
  assert.equal(readContainerMemoryLimit(root), 134217728);
});

test('cgroup v1 (and the hybrid layout): memory.limit_in_bytes; the near-2^63 value is no limit (#20)', (t) => {
  const root = layOut(makeTempDir(t), {
    'proc/self/cgroup': '9:name=systemd:/\n4:memory:/pod/sidecar\n0::/\n',
    'sys/fs/cgroup/unified/cgroup.controllers': '',
    'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
    'sys/fs/cgroup/memory/pod/sidecar/memory.limit_in_bytes': '20971520\n',
  });
  assert.equal(readContainerMemoryLimit(root), 20971520);
  fs.writeFileSync(path.join(root, 'sys/fs/cgroup/memory/pod/sidecar/memory.limit_in_bytes'), '9223372036854771712\n');
  assert.equal(readContainerMemoryLimit(root), undefined);
});

test('a container that sees its own cgroup as the root: the mount root is read (#20)', (t) => {
  const root = layOut(makeTempDir(t), {
    'proc/self/cgroup': '0::/kubepods/pod1/sidecar\n',
    'sys/fs/cgroup/cgroup.controllers': 'memory\n',
    'sys/fs/cgroup/memory.max': '67108864\n',
  });
  assert.equal(readContainerMemoryLimit(root), 67108864);
  assert.equal(readContainerMemoryLimit(makeTempDir(t)), undefined, 'nothing readable: no limit known');
  assert.equal(formatMebibytes(20971520), '20Mi');
});

test('a cgroup outside the namespace ("/..", as the kernel lists it) is read from the mount root, and the walk ends', (t) => {
  for (const membership of ['0::/..\n', '0::/../..\n', '0::/../sibling\n']) {
    const root = layOut(makeTempDir(t), {
      'proc/self/cgroup': membership,
      'sys/fs/cgroup/cgroup.controllers': 'memory\n',
      'sys/fs/cgroup/memory.max': '33554432\n',
    });
    assert.equal(readContainerMemoryLimit(root), 33554432, membership);
  }
  const v1 = layOut(makeTempDir(t), { 'proc/self/cgroup': '4:memory:/../..\n', 'sys/fs/cgroup/memory/memory.limit_in_bytes': '20971520\n' });
  assert.equal(readContainerMemoryLimit(v1), 20971520);
});
