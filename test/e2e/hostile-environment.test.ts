// Issue #16: what the environment may do to the sidecar, and what it must not
// be able to do with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { test, TestContext } from 'node:test';
import { kubeletProbe, probeLoop, ProbeResult } from '../../bench/attackers';
import { readProcStats } from '../../bench/proc';
import { freePort, getStatus } from '../../bench/processes';
import { MAX_RECEIVE_MESSAGE_BYTES } from '../../src/csi/transports/http2-unary-call';
import { parseExposition } from '../helpers/exposition';
import { FakeDriver } from '../helpers/fake-driver';
import { httpRequest } from '../helpers/http';
import { listeningPorts } from '../helpers/listening';
import { startDriverAndSidecar } from '../helpers/pair';
import { DIST_COMMAND, runSidecarToExit, Sidecar, SHIPPED_OPTIONS_COMMAND } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

/** The distroless "nonroot" user and group, which hardened images run as. */
const NON_ROOT_ID = 65532;

test('SIGUSR1 and SIGUSR2 are ignored: no inspector port opens, /healthz still answers', async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { sidecarArgs: ['-v=2'], command: SHIPPED_OPTIONS_COMMAND });
  const pid = sidecar.process.pid!;
  const portsBefore = listeningPorts(pid);
  assert.deepEqual(portsBefore, [Number(new URL(sidecar.baseUrl).port)]);
  sidecar.process.kill('SIGUSR1');
  sidecar.process.kill('SIGUSR2');
  await sidecar.waitForLog(/"Ignoring signal" signal="SIGUSR2"/, 5_000);
  // Node's inspector, when SIGUSR1 starts it, listens within milliseconds.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(listeningPorts(pid), portsBefore);
  assert.doesNotMatch(sidecar.stderr.text, /Debugger listening/);
  assert.equal((await sidecar.request()).status, 200);
  assert.equal(sidecar.process.exitCode, null);
});

// Upstream's process is listed as "livenessprobe" by ps, top and pgrep; Node.js 24 renames its main thread
// "MainThread", which would hide ours from `pgrep livenessprobe`. The image's /livenessprobe is named
// "livenessprobe" the same way (test/runtime/image-runtime.test.ts); here the executable is node.
test('the process is named after its executable in /proc/<pid>/comm (ps, pgrep), with its flags intact in cmdline', async (t) => {
  const { sidecar } = await startDriverAndSidecar(t);
  const pid = sidecar.process.pid!;
  assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'), `${path.basename(process.execPath).slice(0, 15)}\n`);
  const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.some((arg) => arg.startsWith('--csi-address=')), cmdline.join(' '));
});

/** Makes directories under `base` so that the returned socket path is exactly `length` bytes. */
function socketPathOfLength(base: string, length: number): string {
  let dir = base;
  while (length - (Buffer.byteLength(dir) + 1) > 60) dir = path.join(dir, 'd'.repeat(50));
  fs.mkdirSync(dir, { recursive: true });
  const nameBytes = length - (Buffer.byteLength(dir) + 1);
  return path.join(dir, `${'s'.repeat(nameBytes - '.sock'.length)}.sock`);
}

/** A test driver whose socket file ends up at `socketPath`: bound at a short path, then renamed there. */
async function driverAt(t: TestContext, socketPath: string, name: string): Promise<FakeDriver> {
  const shortPath = path.join(makeTempDir(t), 'a.sock');
  const driver = await FakeDriver.start(t, shortPath, ['--name', name]);
  fs.renameSync(shortPath, socketPath);
  return driver;
}

for (const length of [107, 108, 200]) {
  test(`a ${length}-byte socket path is connected to exactly, never to a socket at its first 107 bytes`, async (t) => {
    const socketPath = socketPathOfLength(makeTempDir(t), length);
    assert.equal(Buffer.byteLength(socketPath), length);
    await driverAt(t, socketPath, 'right.csi.example.com');
    if (length > 107) await driverAt(t, socketPath.slice(0, 107), 'impostor.csi.example.com');
    const sidecar = await Sidecar.start(t, [`--csi-address=${socketPath}`]);
    assert.match(sidecar.stderr.text, /"CSI driver name" driver="right\.csi\.example\.com"/);
    assert.equal((await sidecar.request()).status, 200);
  });
}

// A socket directory that others may search but not list (mode 0711): connect() by path needs only the
// search permission, so the long path's directory descriptor must too (O_PATH), or the sidecar is refused
// (EACCES) a socket that a short path in the same directory would reach.
test('a 200-byte socket path in a directory the sidecar may search but not list (0711) is connected to', async (t) => {
  const base = makeTempDir(t);
  fs.chmodSync(base, 0o755);
  const socketPath = socketPathOfLength(base, 200);
  await driverAt(t, socketPath, 'right.csi.example.com');
  fs.chmodSync(socketPath, 0o777);
  fs.chmodSync(path.dirname(socketPath), 0o711);
  const sidecar = await Sidecar.start(t, [`--csi-address=${socketPath}`], 15_000, { ...DIST_COMMAND, uid: NON_ROOT_ID, gid: NON_ROOT_ID });
  assert.match(sidecar.stderr.text, /"CSI driver name" driver="right\.csi\.example\.com"/);
  assert.equal((await sidecar.request()).status, 200);
});

test('a socket path that cannot be reached (longer than 107 bytes with an 86-byte file name): usage error, exit 2', async () => {
  const socketPath = `/tmp/${'d'.repeat(30)}/${'s'.repeat(81)}.sock`;
  const result = await runSidecarToExit([`--csi-address=${socketPath}`]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /invalid value ".*" for flag -csi-address: the socket's file name is 86 bytes; a unix socket path longer than 107 bytes can only be reached when its file name has at most 85\n/);
});

test('NODE_OPTIONS set in the pod is named in a warning at start', async (t) => {
  const command = { ...DIST_COMMAND, env: { NODE_OPTIONS: '--max-old-space-size=200 --trace-warnings' } };
  const { sidecar } = await startDriverAndSidecar(t, { command });
  assert.match(sidecar.stderr.text, /^W\d{4} [\d:.]+ +\d+ \S+\] "NODE_OPTIONS is set; Node.js applies it to the sidecar as well" NODE_OPTIONS="--max-old-space-size=200 --trace-warnings"$/m);
});

test('-v=5 into a stderr read at 2 KB/s under load: lines dropped and counted, not buffered; probes still answered', { timeout: 90_000 }, async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath);
  const port = await freePort();
  const child = spawn(process.execPath, [...SHIPPED_OPTIONS_COMMAND.leadingArgs, `--csi-address=${socketPath}`, `--http-endpoint=127.0.0.1:${port}`, '-v=5'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  const stderr = child.stderr!;
  stderr.pause();
  let logged = '';
  const slowReader = setInterval(() => (logged += String(stderr.read(2048) ?? '')), 1_000);
  t.after(() => clearInterval(slowReader));
  const url = `http://127.0.0.1:${port}/healthz`;
  await waitFor('the sidecar to answer 200', async () => ((await kubeletProbe(url, 1_000)).status === 200 ? true : undefined), 15_000);

  // Every check logs two lines at -v=5: 16 connections of load write far more than 2 KB/s. How soon the
  // pipe, the reader's buffer and the sidecar's 64 KiB are full depends on how fast this machine checks
  // (under CPU contention, 5 s were not enough): load, with kubelet probes every 200 ms, until more than
  // 100 lines were dropped.
  let loading = true;
  t.after(() => (loading = false)); // a failed assertion below must not leave the load spinning on refused connections
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  t.after(() => agent.destroy());
  const load = Array.from({ length: 16 }, async () => {
    while (loading) await getStatus(url, agent);
  });
  const droppedSoFar = async () => parseExposition((await httpRequest(`http://127.0.0.1:${port}/metrics`)).body).samples.get('csi_livenessprobe_log_lines_dropped_total') ?? 0;
  const probes: ProbeResult[] = [];
  const loadUntil = Date.now() + 45_000;
  let droppedUnderLoad = 0;
  while (probes.length < 25 || droppedUnderLoad <= 100) {
    assert.ok(Date.now() < loadUntil, `only ${droppedUnderLoad} lines dropped after 45 s of load`);
    probes.push(...(await probeLoop(url, 1_000, 200, 1_000)));
    droppedUnderLoad = await droppedSoFar();
  }
  loading = false;
  await Promise.all(load);
  assert.deepEqual(probes.filter((p) => p.status !== 200), [], 'probes failed while the log output lagged');

  // Read the rest at full speed: the sidecar says how many lines it dropped, and counts them.
  clearInterval(slowReader);
  stderr.on('data', (chunk: Buffer) => (logged += String(chunk)));
  stderr.resume();
  // One report per stretch the output fell behind (each time the slow reader let it drain): together they
  // name every dropped line, as many as the counter counted.
  const reported = () => [...logged.matchAll(/"Log lines dropped: the log output did not keep up" dropped=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  const counted = await droppedSoFar();
  await waitFor(`reports naming all ${counted} dropped lines`, () => (reported() >= counted ? true : undefined), 10_000);
  assert.ok(reported() > 100, `only ${reported()} lines dropped`);
  assert.equal(reported(), await droppedSoFar(), 'every dropped line reported once');
});

test('answers at the 64 KiB receive limit, then 4 MiB answers, 300 checks each: RSS flat; too large is ResourceExhausted at once', { timeout: 120_000 }, async (t) => {
  const { sidecar, driver } = await startDriverAndSidecar(t, { driverArgs: ['--quiet', '--probe-answer-bytes', String(MAX_RECEIVE_MESSAGE_BYTES)], command: SHIPPED_OPTIONS_COMMAND });
  const pid = sidecar.process.pid!;
  for (let i = 0; i < 30; i++) assert.equal((await sidecar.request()).status, 200); // warm-up
  const before = readProcStats(pid).rssKiB;
  for (let i = 0; i < 300; i++) assert.equal((await sidecar.request()).status, 200);
  await driver.set({ probeAnswerBytes: 4 * 1024 * 1024 });
  for (let i = 0; i < 300; i++) {
    const answer = await sidecar.request();
    assert.equal(answer.status, 500);
    assert.equal(answer.body, `rpc error: code = ResourceExhausted desc = grpc: received message larger than max (${4 * 1024 * 1024} vs. ${MAX_RECEIVE_MESSAGE_BYTES})`);
    assert.ok(answer.elapsedMs < 1_000, `answered after ${answer.elapsedMs} ms`);
  }
  const growthKiB = readProcStats(pid).rssKiB - before;
  // With grpc-go's 4 MiB limit, 300 such answers held RSS at 136-139 MB.
  assert.ok(growthKiB < 16 * 1024, `RSS grew by ${Math.round(growthKiB / 1024)} MiB over 600 maximal answers`);
});
