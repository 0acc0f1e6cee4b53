// The container image in a real OCI runtime (issues #23, #27, #33), for every platform of the image
// index: built by `npm run image`'s own code (buildah, no registry), each platform loaded from the
// archive as a user loads it (skopeo copy with the platform chosen), run by podman with runc, host
// network, the socket directory shared with the test driver running on the host as root, its socket
// made as a real node plugin makes it (root's, umask 022: mode 0755). Run twice:
// - as upstream's image is run, only `args:` set (and once with `--entrypoint /livenessprobe`, as pod
//   specs with `command: ["/livenessprobe", ...]` start it): the image's defaults must reach the socket;
// - under the example DaemonSet's securityContext and resources (test/helpers/image.ts podmanFlagsOf):
//   refused with the reason logged at -v=0, then 200 with the socket permissions the manifest asks of
//   the driver.
// linux/arm64 runs under Debian's qemu-user-static, registered in binfmt_misc (.ci/run registers
// it; missing, the test fails, it never skips), and the test proves the process is the arm64
// /livenessprobe under the emulator, not the host's. What the kernel enforces is what is checked:
// UID 65532 without capabilities is refused a socket only root may open; the 128 MiB limit is the
// cgroup's, and the memory figure is the cgroup's peak, page cache included, not the process's RSS.
//
// The archive is also imported into a containerd the test starts (Debian's containerd, its own
// socket and root), as `kind load image-archive` does, to check the name a kubelet asks for.
//
// Needs root, buildah, podman, runc, skopeo, containerd and qemu-user-static (.ci/run installs them).

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test, TestContext } from 'node:test';
import { probeLoop, startAttack } from '../../bench/attackers';
import { freePort } from '../../bench/processes';
import { SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { BuiltImage, BuiltPlatformImage, buildImage } from '../../scripts/image/build';
import { containerToolEnv, runContainerTool } from '../../scripts/image/container-tools';
import { hostPlatform, IMAGE_PLATFORMS, ImagePlatform, platformName } from '../../scripts/image/platforms';
import { startContainerd } from '../helpers/containerd';
import { SEA_IMAGE_PATH } from '../../scripts/image/sea';
import { memoryCgroupOf, readCgroupMemory, sampleCgroupMemory } from '../helpers/cgroup-memory';
import { FakeDriver } from '../helpers/fake-driver';
import { httpRequest } from '../helpers/http';
import { daemonSetContainer, podmanFlagsOf } from '../helpers/image';
import { runTool as runAsync } from '../helpers/run-tool';
import { makeTempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';
import packageJson from '../../package.json';

const SIDECAR_UID = 65532;
const SIDECAR_GID = 65532;
/** The umask a node plugin runs with (the runtimes' default): its socket is root's, mode 0755. */
const DRIVER_UMASK = 0o022;
/** Issue #33: the "Still connecting" warning at -v=0 names the cause; it comes every 10 s. */
const WARNING_LIMIT_MS = 15_000;
const ATTACK_CONNECTIONS = 5_000;
const ATTACK_PROBE_MS = 10_000;
const ATTACK_PROBE_INTERVAL_MS = 200;
/** The issue's limits: a killed driver reported within 1 s, `podman stop` done within 5 s (the same under emulation). */
const DRIVER_LOSS_LIMIT_MS = 1_000;
const STOP_LIMIT_MS = 5_000;
/**
 * The first answer from a started container: about 0.5 s natively; under qemu-user V8's start is
 * translated first (measured here: 2-3 s), which the same limit still covers, so no platform gets a wider one.
 */
const FIRST_ANSWER_LIMIT_MS = 30_000;
/** binfmt_misc, where the kernel learns which interpreter runs a foreign ELF binary. */
const BINFMT_MISC_DIR = '/proc/sys/fs/binfmt_misc';
const MiB = 1024 * 1024;

const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Starts the test driver on `socketPath` as a node plugin runs: as root (the test's user) with umask
 * 022, so the socket is root's with mode 0755; checks that it is. The umask is the test process's
 * only while the driver is spawned (FakeDriver.start spawns before it first waits).
 */
async function startRootDriver(t: TestContext, socketPath: string): Promise<FakeDriver> {
  const previous = process.umask(DRIVER_UMASK);
  let starting: Promise<FakeDriver>;
  try {
    starting = FakeDriver.start(t, socketPath);
  } finally {
    process.umask(previous);
  }
  const driver = await starting;
  const socket = fs.statSync(socketPath);
  assert.equal(`${socket.uid}:${socket.gid} ${(socket.mode & 0o777).toString(8)}`, '0:0 755', `${socketPath}: a socket as a root node plugin makes it`);
  return driver;
}

/** A socket directory as the kubelet makes a hostPath DirectoryOrCreate: root's, mode 0755. */
function makeSocketDir(t: TestContext): string {
  const dir = makeTempDir(t);
  fs.chownSync(dir, 0, 0);
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * Checks that the process `pid` of a container of `platform` runs the image's /livenessprobe: natively
 * the kernel names it; under emulation the kernel runs the interpreter binfmt_misc names (opened at
 * registration, flag F) and hands it the platform's binary, whose ELF machine is checked. And that the
 * file carries the SEA blob the build made, with the sidecar's V8 options (SIDECAR_NODE_OPTIONS).
 */
function assertRunsImageExecutable(t: TestContext, pid: number, platform: BuiltPlatformImage, emulator: string | undefined): void {
  const exe = fs.readlinkSync(`/proc/${pid}/exe`);
  const executable = fs.readFileSync(`/proc/${pid}/root${SEA_IMAGE_PATH}`);
  if (emulator) {
    assert.equal(fs.realpathSync(`/proc/${pid}/exe`), emulator, `the container's process runs under ${emulator}`);
    assert.equal(executable.readUInt16LE(18), platform.platform.elfMachine, `the ${SEA_IMAGE_PATH} the container runs is the platform's binary`);
  } else {
    assert.equal(exe, SEA_IMAGE_PATH, `the container runs the image's ${SEA_IMAGE_PATH} natively`);
    // ps, top and pgrep list it as upstream's process, not as Node.js's "MainThread" (src/process-name.ts).
    assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'), `${path.basename(SEA_IMAGE_PATH)}\n`, 'the process is named livenessprobe');
  }
  const seaBlob = built.seaBlobs.get(platform.platform)!;
  const blob = fs.readFileSync(seaBlob.blobPath);
  assert.ok(executable.includes(blob), `${SEA_IMAGE_PATH} carries the SEA blob ${seaBlob.blobPath}`);
  assert.deepEqual(seaBlob.config.execArgv, SIDECAR_NODE_OPTIONS);
  for (const option of SIDECAR_NODE_OPTIONS) assert.ok(blob.includes(Buffer.from(option)), `the blob carries ${option}`);
  logFigure(t, `${platformName(platform.platform)}: process ${pid} executable ${exe}${emulator ? ` (emulator for ${platformName(platform.platform)})` : ''}`);
}

/**
 * Drops the page cache of the container's larger files (/livenessprobe, glibc, libstdc++): the
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

/**
 * What the DaemonSet's comment asks of a driver whose sidecar runs as UID/GID 65532: its socket owned
 * by a group the sidecar has (runAsGroup 65532 here) and group-writable (connect needs write permission).
 */
function shareSocketWithSidecar(socketPath: string): void {
  fs.chownSync(socketPath, 0, SIDECAR_GID);
  fs.chmodSync(socketPath, 0o660);
}

const podmanAsync = (args: readonly string[]) => runAsync('podman', args);

/** A measured figure, printed with the test's result (docs/image.md's figures come from these lines). */
function logFigure(t: TestContext, line: string): void {
  t.diagnostic(`image-runtime: ${line}`);
}

/**
 * The interpreter binfmt_misc runs `platform`'s binaries with, or undefined for the host's own.
 * Throws, naming what to run, when a foreign platform has no enabled entry with the F flag (the
 * kernel opens the interpreter at registration, so it needs no file inside the container).
 */
function emulatorOf(platform: ImagePlatform): string | undefined {
  if (platform === hostPlatform()) return undefined;
  const entry = path.join(BINFMT_MISC_DIR, `qemu-${platform.architecture === 'arm64' ? 'aarch64' : platform.architecture}`);
  const register = `mount -t binfmt_misc binfmt_misc ${BINFMT_MISC_DIR}; cat /usr/lib/binfmt.d/${path.basename(entry)}.conf > ${BINFMT_MISC_DIR}/register (Debian's qemu-user-static; .ci/run does this)`;
  if (!fs.existsSync(entry)) throw new Error(`${platformName(platform)} needs an emulator: ${entry} is missing; ${register}`);
  const text = fs.readFileSync(entry, 'utf8');
  if (!/^enabled$/m.test(text)) throw new Error(`${entry} is disabled; echo 1 > ${entry}`);
  const flags = /^flags: (\w*)$/m.exec(text)?.[1] ?? '';
  if (!flags.includes('F')) throw new Error(`${entry} lacks the F flag (flags: ${flags}); remove it (echo -1 > ${entry}) and ${register}`);
  const interpreter = /^interpreter (.+)$/m.exec(text)![1];
  return fs.realpathSync(interpreter);
}

const loaded = new Map<BuiltPlatformImage, string>();
/**
 * Copies `platform`'s image from the archive into local storage, as a user loads it, once for the
 * file (removed after it); returns its local name.
 */
function loadFromArchive(image: BuiltImage, platform: BuiltPlatformImage): string {
  const done = loaded.get(platform);
  if (done) return done;
  const name = `localhost/csi-livenessprobe-ts-runtime-test:${platform.platform.architecture}`;
  execFileSync('skopeo', ['copy', '--quiet', `--override-os=${platform.platform.os}`, `--override-arch=${platform.platform.architecture}`, `oci-archive:${image.archivePath}`, `containers-storage:${name}`], { env: containerToolEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  const loadedId = runContainerTool('podman', ['image', 'inspect', '--format', '{{.Id}}', name]);
  assert.equal(`sha256:${loadedId}`, platform.configDigest, `the archive's ${platformName(platform.platform)} image is the one built`);
  loaded.set(platform, name);
  return name;
}
after(async () => {
  for (const name of loaded.values()) await podmanAsync(['rmi', '--force', name]);
});

let built: BuiltImage;
before(async () => {
  assert.equal(process.getuid?.(), 0, 'the runtime test runs podman as root (cgroup limits need it; CI runs as root)');
  built = await buildImage();
});

/**
 * Runs `platform`'s image from the archive as the DaemonSet runs it and checks the verdicts: root's
 * 0755 socket refused, with the reason in /healthz and at -v=0 in the log within WARNING_LIMIT_MS;
 * 200 once the socket has the permissions the DaemonSet's comment asks for; the driver killed 500
 * within DRIVER_LOSS_LIMIT_MS, back 200, the kernel's view of the security settings, and
 * `podman stop` exit 0 within STOP_LIMIT_MS. With `attack`, 5,000 held connections in between,
 * every kubelet-style probe 200 and no OOM kill.
 */
async function runAsDaemonSet(t: TestContext, platform: BuiltPlatformImage, attack: boolean): Promise<void> {
  const emulator = emulatorOf(platform.platform);
  const imageName = loadFromArchive(built, platform);
  // The image says what it is (OCI annotations as labels), not what its stand-in base is.
  const labels = JSON.parse(runContainerTool('podman', ['image', 'inspect', '--format', '{{json .Labels}}', imageName])) as Record<string, string>;
  assert.equal(labels['org.opencontainers.image.title'], packageJson.name);
  assert.equal(labels['org.opencontainers.image.version'], packageJson.version);
  assert.match(labels['org.opencontainers.image.revision'] ?? '', /^[0-9a-f]{40}(-dirty)?$/, 'the full commit the image was built from');
  assert.equal(labels['org.opencontainers.image.description'], packageJson.description);
  logFigure(t, `${platformName(platform.platform)} image: manifest ${platform.manifestDigest}, ${(platform.compressedBytes / 1e6).toFixed(1)} MB compressed, ${(platform.unpackedBytes / 1e6).toFixed(1)} MB unpacked, base ${platform.baseSource}`);

  const version = await podmanAsync(['run', '--rm', `--platform=${platformName(platform.platform)}`, imageName, '--version']);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(` ${platformName(platform.platform)}\\n$`), 'the Node.js inside reports the image\'s platform');

  const manifest = daemonSetContainer('liveness-probe');
  const probeTimeoutMs = (daemonSetContainer('csi-driver').livenessProbe?.timeoutSeconds ?? 1) * 1000;
  const flags = podmanFlagsOf(manifest);
  assert.ok(flags.includes(`--user=${SIDECAR_UID}:${SIDECAR_GID}`), flags.join(' '));
  const socketMount = manifest.volumeMounts?.find((mount) => mount.name === 'socket-dir');
  assert.ok(socketMount, 'the liveness-probe container mounts socket-dir');

  const socketDir = makeSocketDir(t);
  const socketPath = path.join(socketDir, 'csi.sock');
  let driver = await startRootDriver(t, socketPath);

  // The manifest's args, but for the port: host network here is the test machine's.
  const port = await freePort();
  const args = (manifest.args ?? []).map((arg) => (arg.startsWith('--http-endpoint=') ? `--http-endpoint=127.0.0.1:${port}` : arg));
  assert.ok(args.includes(`--csi-address=${socketMount.mountPath}/csi.sock`), args.join(' '));
  const name = `csi-lp-runtime-${platform.platform.architecture}-${process.pid}`;
  t.after(() => podmanAsync(['rm', '--force', '--time=0', name]));
  runContainerTool('podman', ['create', `--name=${name}`, `--platform=${platformName(platform.platform)}`, '--network=host', `--volume=${socketDir}:${socketMount.mountPath}`, ...flags, imageName, ...args]);
  const rootfs = runContainerTool('podman', ['mount', name]);
  assert.ok(evictImageFilesFromPageCache(rootfs) >= 3, `${SEA_IMAGE_PATH}, libc and libstdc++ under ${rootfs}`);
  runContainerTool('podman', ['unmount', name]);
  const startedAt = performance.now();
  runContainerTool('podman', ['start', name]);
  const logsOnFailure = async () => {
    const logs = await podmanAsync(['logs', name]);
    return logs.stdout + logs.stderr;
  };

  const url = `http://127.0.0.1:${port}/healthz`;
  // Root's socket (mode 0755) is refused to UID 65532 without CAP_DAC_OVERRIDE: the flags are in force.
  const refused = await waitFor('a first /healthz answer from the container', () => httpRequest(url, 'GET', 5_000), FIRST_ANSWER_LIMIT_MS, 100);
  const firstAnswerMs = performance.now() - startedAt;
  assert.equal(refused.status, 500, refused.body);
  assert.match(refused.body, /permission denied on the CSI driver socket/, await logsOnFailure());
  // Issue #33: at the default verbosity the log says why, not only "Still connecting".
  const warning = await waitFor('a "Still connecting ... permission denied" line at -v=0', async () => {
    const line = (await logsOnFailure()).split('\n').find((candidate) => /Still connecting to .*permission denied/i.test(candidate));
    return line;
  }, WARNING_LIMIT_MS, 250);
  logFigure(t, `${platformName(platform.platform)} as UID ${SIDECAR_UID} against root's 0755 socket: ${warning}`);

  shareSocketWithSidecar(socketPath);
  const healthy = await waitFor('200 once the socket is shared with GID 65532', async () => {
    const answer = await httpRequest(url);
    return answer.status === 200 ? answer : undefined;
  }, 15_000, 100);
  const firstOkMs = performance.now() - startedAt;
  assert.equal(healthy.body, 'ok');
  logFigure(t, `${platformName(platform.platform)}: first answer ${firstAnswerMs.toFixed(0)} ms after podman start, first 200 ${firstOkMs.toFixed(0)} ms (socket shared once the warning was logged)`);

  const pid = Number(runContainerTool('podman', ['inspect', '--format', '{{.State.Pid}}', name]));
  assertRunsImageExecutable(t, pid, platform, emulator);

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
  logFigure(t, `${platformName(platform.platform)} idle: cgroup usage ${mib(idle.usageBytes)} (working set ${mib(idle.workingSetBytes)}, anon ${mib(idle.anonBytes)}, page cache ${mib(idle.pageCacheBytes)}), limit ${mib(idle.limitBytes)}`);

  await driver.kill('SIGKILL');
  const lost = await httpRequest(url);
  assert.equal(lost.status, 500, lost.body);
  assert.match(lost.body, /ECONNREFUSED/);
  assert.ok(lost.elapsedMs < DRIVER_LOSS_LIMIT_MS, `500 after ${lost.elapsedMs.toFixed(0)} ms; limit ${DRIVER_LOSS_LIMIT_MS} ms`);
  logFigure(t, `${platformName(platform.platform)} driver killed: 500 after ${lost.elapsedMs.toFixed(1)} ms (${lost.body})`);

  driver = await startRootDriver(t, socketPath);
  shareSocketWithSidecar(socketPath);
  await waitFor('200 from the driver started again', async () => ((await httpRequest(url)).status === 200 ? true : undefined), 15_000, 100);

  if (attack) await holdConnections(t, port, url, cgroup, probeTimeoutMs);

  const stopStartedAt = performance.now();
  const stop = await podmanAsync(['stop', '--time=10', name]);
  const stopMs = performance.now() - stopStartedAt;
  assert.equal(stop.code, 0, stop.stderr);
  const [exitCode, oomKilled] = runContainerTool('podman', ['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', name]).split(' ');
  logFigure(t, `${platformName(platform.platform)} podman stop: ${stopMs.toFixed(0)} ms, exit code ${exitCode}, OOMKilled ${oomKilled}`);
  assert.equal(exitCode, '0', await logsOnFailure());
  assert.equal(oomKilled, 'false');
  assert.ok(stopMs < STOP_LIMIT_MS, `podman stop took ${stopMs.toFixed(0)} ms; limit ${STOP_LIMIT_MS} ms`);
  assert.match(await logsOnFailure(), /"Shutting down" signal="SIGTERM"/);
}

/** The DaemonSet's args for the sidecar, but for the port: host network here is the test machine's. */
function manifestArgs(port: number): string[] {
  const args = (daemonSetContainer('liveness-probe').args ?? []).map((arg) => (arg.startsWith('--http-endpoint=') ? `--http-endpoint=127.0.0.1:${port}` : arg));
  assert.ok(args.includes('--csi-address=/csi/csi.sock'), args.join(' '));
  return args;
}

/**
 * Issue #33: `platform`'s image run as upstream's image is run, only the pod spec's args set (no user,
 * no capabilities changed), against root's 0755 socket: the image's defaults reach it. 200; the driver
 * killed, 500 within DRIVER_LOSS_LIMIT_MS; back, 200. Then once more started by the path pod specs
 * give in `command:` (`--entrypoint /livenessprobe`): 200.
 */
async function runAsUpstreamIs(t: TestContext, platform: BuiltPlatformImage): Promise<void> {
  const emulator = emulatorOf(platform.platform);
  const imageName = loadFromArchive(built, platform);
  const socketDir = makeSocketDir(t);
  const socketPath = path.join(socketDir, 'csi.sock');
  let driver = await startRootDriver(t, socketPath);
  const label = platformName(platform.platform);

  const start = async (name: string, port: number, entrypoint: readonly string[]) => {
    t.after(() => podmanAsync(['rm', '--force', '--time=0', name]));
    const startedAt = performance.now();
    runContainerTool('podman', ['run', '--detach', `--name=${name}`, `--platform=${label}`, '--network=host', `--volume=${socketDir}:/csi`, ...entrypoint, imageName, ...manifestArgs(port)]);
    const url = `http://127.0.0.1:${port}/healthz`;
    const healthy = await waitFor(`200 from ${name}`, async () => {
      const answer = await httpRequest(url, 'GET', 5_000).catch(() => undefined);
      return answer?.status === 200 ? answer : undefined;
    }, FIRST_ANSWER_LIMIT_MS, 100).catch(async (err: Error) => {
      const logs = await podmanAsync(['logs', name]);
      throw new Error(`${err.message}; /healthz: ${JSON.stringify(await httpRequest(url, 'GET', 5_000).catch((e: Error) => e.message))}; logs:\n${logs.stdout}${logs.stderr}`, { cause: err });
    });
    assert.equal(healthy.body, 'ok');
    logFigure(t, `${label} ${name}: first 200 ${(performance.now() - startedAt).toFixed(0)} ms after podman run`);
    return url;
  };

  const name = `csi-lp-upstream-${platform.platform.architecture}-${process.pid}`;
  const url = await start(name, await freePort(), []);
  const pid = Number(runContainerTool('podman', ['inspect', '--format', '{{.State.Pid}}', name]));
  assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+0\s+0\s+0\s+0$/m, 'the image\'s default user is root, as upstream\'s');
  assertRunsImageExecutable(t, pid, platform, emulator);

  await driver.kill('SIGKILL');
  const lost = await httpRequest(url);
  assert.equal(lost.status, 500, lost.body);
  assert.ok(lost.elapsedMs < DRIVER_LOSS_LIMIT_MS, `500 after ${lost.elapsedMs.toFixed(0)} ms; limit ${DRIVER_LOSS_LIMIT_MS} ms`);
  logFigure(t, `${label} args only, driver killed: 500 after ${lost.elapsedMs.toFixed(1)} ms (${lost.body})`);
  driver = await startRootDriver(t, socketPath);
  await waitFor('200 from the driver started again', async () => ((await httpRequest(url)).status === 200 ? true : undefined), 15_000, 100);

  // `command: ["/livenessprobe", ...]` in a pod spec replaces the ENTRYPOINT with the same path.
  await start(`csi-lp-command-${platform.platform.architecture}-${process.pid}`, await freePort(), [`--entrypoint=${SEA_IMAGE_PATH}`]);
}

/** 5,000 attacking connections held while kubelet-style probes run: every probe 200, no OOM kill, working set under the limit. */
async function holdConnections(t: TestContext, port: number, url: string, cgroup: ReturnType<typeof memoryCgroupOf>, probeTimeoutMs: number): Promise<void> {
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
}

const builtPlatform = (platform: ImagePlatform) => {
  const image = built.images.find((candidate) => candidate.platform === platform);
  assert.ok(image, `the build has a ${platformName(platform)} image`);
  return image;
};

for (const platform of IMAGE_PLATFORMS) {
  // The 5,000-connection attack measures the sidecar's memory and connection budget against the
  // cgroup's limit; under emulation it would measure qemu's translation cache and a CPU ten times
  // slower, so it runs on the host's own platform, and every platform gets the same verdicts.
  const attack = platform === hostPlatform();
  test(`${platformName(platform)} image as upstream's image is run (args only, then --entrypoint ${SEA_IMAGE_PATH}) against root's 0755 socket: 200, driver loss 500, back 200`, { timeout: 180_000 }, async (t) => {
    await runAsUpstreamIs(t, builtPlatform(platform));
  });
  test(`${platformName(platform)} image in podman + runc with the DaemonSet securityContext and resources: health, driver loss${attack ? ', 5,000 connections' : ''}, stop`, { timeout: 240_000 }, async (t) => {
    await runAsDaemonSet(t, builtPlatform(platform), attack);
  });
}

test('the archive: one fully qualified reference, an index of every platform; containerd imports it under the name a kubelet asks for', { timeout: 120_000 }, async (t) => {
  const daemonSetImage = (daemonSetContainer('liveness-probe') as { image?: string }).image;
  assert.equal(built.reference, daemonSetImage, 'the default reference is the example manifests\' image');
  assert.deepEqual(built.images.map((image) => platformName(image.platform)), IMAGE_PLATFORMS.map(platformName));

  const socket = await startContainerd(t, makeTempDir(t));
  // What `kind load image-archive` runs (kind's nodeutils.LoadImageArchive), in the kubelet's namespace.
  const imported = await runAsync('ctr', ['--address', socket, '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--digests', built.archivePath]);
  assert.equal(imported.code, 0, imported.stderr);
  const listed = await runAsync('ctr', ['--address', socket, '--namespace=k8s.io', 'images', 'ls']);
  const row = listed.stdout.split('\n').find((line) => line.split(/\s+/)[0] === built.reference);
  assert.ok(row, `containerd stores ${built.reference}:\n${listed.stdout}`);
  // Columns: REF TYPE DIGEST SIZE (a number and a unit) PLATFORMS LABELS.
  const [, type, digest] = row.split(/\s+/);
  assert.equal(type, 'application/vnd.oci.image.index.v1+json', row);
  assert.equal(digest, built.indexDigest, row);
  const platformColumn = row.split(/\s+/).find((column) => column.startsWith('linux/'));
  assert.deepEqual(platformColumn?.split(',').sort(), IMAGE_PLATFORMS.map(platformName).sort(), row);
  logFigure(t, `containerd (ctr images import --all-platforms): ${built.reference} -> ${digest}, platforms ${platformColumn}`);
});
