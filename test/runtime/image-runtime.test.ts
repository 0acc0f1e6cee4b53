// The container image in a real OCI runtime (issue #23): built by `npm run image`'s own code
// (buildah, no registry), run by podman with runc under the example DaemonSet's securityContext
// and resources (test/helpers/image.ts podmanFlagsOf), host network, the socket directory shared
// with the test driver running on the host. What the kernel enforces is what is checked: UID 65532
// without capabilities is refused a socket only root may open; the 128 MiB limit is the cgroup's,
// and the memory figure is the cgroup's peak, page cache included, not the process's RSS.
//
// Needs root, buildah, podman and runc (.ci/run installs them); without them the test fails.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, TestContext } from 'node:test';
import { probeLoop, startAttack } from '../../bench/attackers';
import { freePort } from '../../bench/processes';
import { containerToolEnv, runContainerTool } from '../../scripts/image/container-tools';
import { buildImage } from '../../scripts/image/build';
import { FakeDriver } from '../helpers/fake-driver';
import { httpRequest } from '../helpers/http';
import { daemonSetContainer, podmanFlagsOf } from '../helpers/image';
import { makeTempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const SIDECAR_UID = 65532;
const SIDECAR_GID = 65532;
const ATTACK_CONNECTIONS = 5_000;
const ATTACK_PROBE_MS = 10_000;
const ATTACK_PROBE_INTERVAL_MS = 200;
/** The limits: a killed driver reported within 1 s, `podman stop` done within 5 s. */
const DRIVER_LOSS_LIMIT_MS = 1_000;
const STOP_LIMIT_MS = 5_000;
const MiB = 1024 * 1024;

/** The memory cgroup files of the container whose init process is `pid` (cgroup v1, else v2). */
function memoryCgroupOf(pid: number): { version: 1 | 2; dir: string } {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.map((line) => line.split(':')).find(([, controllers]) => controllers.split(',').includes('memory'));
  if (v1 && fs.existsSync('/sys/fs/cgroup/memory')) return { version: 1, dir: path.join('/sys/fs/cgroup/memory', v1[2]) };
  const v2 = lines.map((line) => line.split(':')).find(([id]) => id === '0');
  if (!v2) throw new Error(`no memory cgroup for pid ${pid}: ${lines.join(' | ')}`);
  return { version: 2, dir: path.join('/sys/fs/cgroup', v2[2]) };
}

interface CgroupMemory {
  readonly limitBytes: number;
  /** The cgroup's peak usage since it was made: page cache included, so it may reach the limit (then cache is reclaimed). */
  readonly peakBytes: number;
  readonly usageBytes: number;
  /** What the kubelet reports and evicts on (container_memory_working_set_bytes): usage less inactive page cache. */
  readonly workingSetBytes: number;
  /** Anonymous memory (heap, stacks, buffers): what the cgroup cannot reclaim without swap. */
  readonly anonBytes: number;
  readonly pageCacheBytes: number;
  /** The kernel's OOM kills in this cgroup (memory.oom_control / memory.events). */
  readonly oomKills: number;
}

function readCgroupMemory(cgroup: { version: 1 | 2; dir: string }): CgroupMemory {
  const read = (file: string) => fs.readFileSync(path.join(cgroup.dir, file), 'utf8').trim();
  const keyed = (file: string) => new Map(read(file).split('\n').map((line) => line.split(' ') as [string, string]));
  const stat = keyed('memory.stat');
  if (cgroup.version === 1) {
    const usageBytes = Number(read('memory.usage_in_bytes'));
    return {
      limitBytes: Number(read('memory.limit_in_bytes')),
      peakBytes: Number(read('memory.max_usage_in_bytes')),
      usageBytes,
      workingSetBytes: usageBytes - Number(stat.get('total_inactive_file')),
      anonBytes: Number(stat.get('total_rss')),
      pageCacheBytes: Number(stat.get('total_cache')),
      oomKills: Number(keyed('memory.oom_control').get('oom_kill') ?? 0),
    };
  }
  const usageBytes = Number(read('memory.current'));
  return {
    limitBytes: Number(read('memory.max')),
    peakBytes: Number(read('memory.peak')),
    usageBytes,
    workingSetBytes: usageBytes - Number(stat.get('inactive_file')),
    anonBytes: Number(stat.get('anon')),
    pageCacheBytes: Number(stat.get('file')),
    oomKills: Number(keyed('memory.events').get('oom_kill') ?? 0),
  };
}

/** Reads the cgroup every `intervalMs` until stopped; resolves with the highest working set and anon memory seen. */
function sampleCgroupMemory(cgroup: { version: 1 | 2; dir: string }, intervalMs: number): { stop(): { workingSetBytes: number; anonBytes: number; samples: number } } {
  let workingSetBytes = 0;
  let anonBytes = 0;
  let samples = 0;
  const sample = () => {
    const now = readCgroupMemory(cgroup);
    workingSetBytes = Math.max(workingSetBytes, now.workingSetBytes);
    anonBytes = Math.max(anonBytes, now.anonBytes);
    samples += 1;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { workingSetBytes, anonBytes, samples };
    },
  };
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Drops the page cache of the container's larger files (node, glibc, libstdc++, the bundle): the
 * build just wrote them, so their pages sit in the cache charged to the build, and the container
 * would run on them for free. Evicted, they are read again by the container and charged to its
 * cgroup, as on a node that starts it for the first time. GNU dd's nocache with count=0 drops one
 * file's cached pages and nothing else.
 */
function evictImageFilesFromPageCache(rootfs: string): number {
  let evicted = 0;
  for (const entry of fs.readdirSync(rootfs, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (!entry.isFile() || fs.statSync(file).size < 64 * 1024) continue;
    const dd = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
    if (dd.status !== 0) throw new Error(`dd iflag=nocache ${file}: ${dd.stderr.toString()}`);
    evicted += 1;
  }
  return evicted;
}

/** Lets UID/GID 65532 connect to the driver's socket, as the DaemonSet's comment tells drivers to. */
function shareSocketWithSidecar(socketPath: string): void {
  fs.chownSync(socketPath, 0, SIDECAR_GID);
  fs.chmodSync(socketPath, 0o660);
}

/** `podman <args>` without blocking the event loop; resolves with the exit code and output. */
function podmanAsync(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('podman', args, { env: containerToolEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A measured figure, printed with the test's result (the README's figures come from these lines). */
function logFigure(t: TestContext, line: string): void {
  t.diagnostic(`image-runtime: ${line}`);
}

test('image in podman + runc with the DaemonSet securityContext and resources: health, driver loss, 5,000 connections, stop', { timeout: 240_000 }, async (t) => {
  assert.equal(process.getuid?.(), 0, 'the runtime test runs podman as root (cgroup limits need it; CI runs as root)');
  const image = await buildImage();
  logFigure(t, `image ${image.name}: OCI archive ${(image.archiveBytes / 1e6).toFixed(1)} MB, unpacked ${(image.unpackedBytes / 1e6).toFixed(1)} MB, base ${image.baseSource}, built in ${(image.buildMs / 1000).toFixed(1)} s`);

  const manifest = daemonSetContainer('liveness-probe');
  const probeTimeoutMs = (daemonSetContainer('csi-driver').livenessProbe?.timeoutSeconds ?? 1) * 1000;
  const flags = podmanFlagsOf(manifest);
  assert.ok(flags.includes(`--user=${SIDECAR_UID}:${SIDECAR_GID}`), flags.join(' '));
  const socketMount = manifest.volumeMounts?.find((mount) => mount.name === 'socket-dir');
  assert.ok(socketMount, 'the liveness-probe container mounts socket-dir');

  const socketDir = makeTempDir(t);
  fs.chownSync(socketDir, 0, SIDECAR_GID);
  fs.chmodSync(socketDir, 0o750);
  const socketPath = path.join(socketDir, 'csi.sock');
  let driver = await FakeDriver.start(t, socketPath);

  // The manifest's args, but for the port: host network here is the test machine's.
  const port = await freePort();
  const args = (manifest.args ?? []).map((arg) => (arg.startsWith('--http-endpoint=') ? `--http-endpoint=127.0.0.1:${port}` : arg));
  assert.ok(args.includes(`--csi-address=${socketMount.mountPath}/csi.sock`), args.join(' '));
  const name = `csi-lp-runtime-${process.pid}`;
  t.after(() => podmanAsync(['rm', '--force', '--time=0', name]));
  runContainerTool('podman', ['create', `--name=${name}`, '--network=host', `--volume=${socketDir}:${socketMount.mountPath}`, ...flags, image.name, ...args]);
  const rootfs = runContainerTool('podman', ['mount', name]);
  assert.ok(evictImageFilesFromPageCache(rootfs) >= 3, `node, libc and libstdc++ under ${rootfs}`);
  runContainerTool('podman', ['unmount', name]);
  runContainerTool('podman', ['start', name]);
  const logsOnFailure = async () => {
    const logs = await podmanAsync(['logs', name]);
    return logs.stdout + logs.stderr;
  };

  const url = `http://127.0.0.1:${port}/healthz`;
  // Root's socket (mode 0755) is refused to UID 65532 without CAP_DAC_OVERRIDE: the flags are in force.
  const refused = await waitFor('a first /healthz answer from the container', () => httpRequest(url, 'GET', 5_000), 30_000, 100);
  assert.equal(refused.status, 500, refused.body);
  assert.match(refused.body, /permission denied on the CSI driver socket/, await logsOnFailure());

  shareSocketWithSidecar(socketPath);
  const healthy = await waitFor('200 once the socket is shared with GID 65532', async () => {
    const answer = await httpRequest(url);
    return answer.status === 200 ? answer : undefined;
  }, 15_000, 100);
  assert.equal(healthy.body, 'ok');

  const pid = Number(runContainerTool('podman', ['inspect', '--format', '{{.State.Pid}}', name]));
  const cgroup = memoryCgroupOf(pid);
  const idle = readCgroupMemory(cgroup);
  const memoryFlag = flags.find((flag) => flag.startsWith('--memory='));
  assert.equal(`--memory=${idle.limitBytes}b`, memoryFlag, `the cgroup's memory limit (${cgroup.dir})`);
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  assert.match(status, new RegExp(`^Uid:\\s+${SIDECAR_UID}\\s+${SIDECAR_UID}\\s+${SIDECAR_UID}\\s+${SIDECAR_UID}$`, 'm'));
  assert.match(status, /^CapEff:\s+0000000000000000$/m);
  assert.match(status, /^CapBnd:\s+0000000000000000$/m);
  assert.match(status, /^NoNewPrivs:\s+1$/m);
  const rootMount = fs.readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').find((line) => line.split(' ')[1] === '/');
  assert.match(rootMount ?? '', /\sro[\s,]/, `root mount: ${rootMount}`);
  logFigure(t, `idle: cgroup usage ${mib(idle.usageBytes)} (working set ${mib(idle.workingSetBytes)}, anon ${mib(idle.anonBytes)}, page cache ${mib(idle.pageCacheBytes)}), limit ${mib(idle.limitBytes)}`);

  await driver.kill('SIGKILL');
  const lost = await httpRequest(url);
  assert.equal(lost.status, 500, lost.body);
  assert.match(lost.body, /ECONNREFUSED/);
  assert.ok(lost.elapsedMs < DRIVER_LOSS_LIMIT_MS, `500 after ${lost.elapsedMs.toFixed(0)} ms; limit ${DRIVER_LOSS_LIMIT_MS} ms`);
  logFigure(t, `driver killed: 500 after ${lost.elapsedMs.toFixed(1)} ms (${lost.body})`);

  driver = await FakeDriver.start(t, socketPath);
  shareSocketWithSidecar(socketPath);
  await waitFor('200 from the driver started again', async () => ((await httpRequest(url)).status === 200 ? true : undefined), 15_000, 100);

  const attack = startAttack(port, ATTACK_CONNECTIONS, 'mixed');
  t.after(() => attack.stop());
  const sampler = sampleCgroupMemory(cgroup, 100);
  await attack.waitUntilOpen(ATTACK_CONNECTIONS, 60_000);
  // Probes as the kubelet sends them, with the probe's own time limit from the DaemonSet, 50 times as often.
  const probes = await probeLoop(url, ATTACK_PROBE_MS, ATTACK_PROBE_INTERVAL_MS, probeTimeoutMs);
  const heldAtEnd = attack.open();
  const sampled = sampler.stop();
  await attack.stop();
  const underAttack = readCgroupMemory(cgroup);
  const failed = probes.filter((probe) => probe.status !== 200);
  const slowestMs = Math.max(...probes.map((probe) => probe.latencyMs));
  logFigure(
    t,
    `${ATTACK_CONNECTIONS} held connections (${heldAtEnd} open at the end): probes ${probes.length - failed.length}/${probes.length} 200, slowest ${slowestMs.toFixed(1)} ms; ` +
      `cgroup peak usage ${mib(underAttack.peakBytes)} of ${mib(underAttack.limitBytes)} (page cache included), ` +
      `peak working set ${mib(sampled.workingSetBytes)}, peak anon ${mib(sampled.anonBytes)} (${sampled.samples} samples), OOM kills ${underAttack.oomKills}`,
  );
  assert.deepEqual(failed, [], 'every probe answered 200 under attack');
  assert.equal(underAttack.oomKills, 0);
  assert.ok(sampled.workingSetBytes < underAttack.limitBytes, `peak working set ${sampled.workingSetBytes} bytes reached the limit`);
  assert.equal((await httpRequest(url)).status, 200);

  const stopStartedAt = performance.now();
  const stop = await podmanAsync(['stop', '--time=10', name]);
  const stopMs = performance.now() - stopStartedAt;
  assert.equal(stop.code, 0, stop.stderr);
  const [exitCode, oomKilled] = runContainerTool('podman', ['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', name]).split(' ');
  logFigure(t, `podman stop: ${stopMs.toFixed(0)} ms, exit code ${exitCode}, OOMKilled ${oomKilled}`);
  assert.equal(exitCode, '0', await logsOnFailure());
  assert.equal(oomKilled, 'false');
  assert.ok(stopMs < STOP_LIMIT_MS, `podman stop took ${stopMs.toFixed(0)} ms; limit ${STOP_LIMIT_MS} ms`);
  assert.match(await logsOnFailure(), /"Shutting down" signal="SIGTERM"/);
});
