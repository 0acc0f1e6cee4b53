// The sidecar started in-process (startSidecar) against real drivers and a
// scripted HTTP/2 server, over real HTTP: the check, discovery, connection
// and shutdown, where a process around them would only hide what is asserted.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseSidecarOptions } from '../../src/cli/options';
import { Logger } from '../../src/log/logger';
import { SHUTDOWN_LIMIT_MS, SidecarListenError, startSidecar } from '../../src/sidecar';
import { parseExposition, seriesKey } from '../helpers/exposition';
import { FakeDriver } from '../helpers/fake-driver';
import { startInProcess } from '../helpers/in-process';
import { respondOk, ScriptedGrpcServer } from '../helpers/scripted-grpc-server';
import { makeTempDir } from '../helpers/tmp';

const PROBE = '/csi.v1.Identity/Probe';
const DRIVER = 'test.csi.example.com';

/** GetPluginInfoResponse{name}, encoded by hand. */
function pluginInfoMessage(name: string): Buffer {
  const nameBytes = Buffer.from(name, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, nameBytes.length]), nameBytes]);
}

const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

test('issue #13: a Probe answer the decoder cannot parse is a 500 Internal in grpc-go words, counted as Internal', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await ScriptedGrpcServer.start(t, socketPath, (stream, headers) => {
    // ProbeResponse whose `ready` field claims 5 bytes and has 1.
    respondOk(stream, headers[':path'] === PROBE ? Buffer.from([0x0a, 0x05, 0x08]) : pluginInfoMessage(DRIVER));
  });
  const { sidecar, request } = await startInProcess(t, [`--csi-address=${socketPath}`]);
  assert.equal(await sidecar.driverName, DRIVER);

  const answer = await request();
  assert.equal(answer.status, 500);
  assert.equal(answer.body, 'rpc error: code = Internal desc = grpc: failed to unmarshal the received message: proto: cannot parse invalid wire-format data: length 5 exceeds the 1 bytes left at byte 1');
  const samples = parseExposition((await request('/metrics')).body).samples;
  const labels = { driver_name: DRIVER, method_name: PROBE };
  assert.equal(samples.get(seriesKey('csi_sidecar_operations_seconds_count', { ...labels, grpc_status_code: 'Internal' })), 1);
  assert.equal(samples.get(seriesKey('csi_sidecar_operations_seconds_count', { ...labels, grpc_status_code: 'OK' })), undefined);
});

test('issue #21: a ProbeResponse with ready sent twice, the second empty, is ready (protobuf-go merges the two)', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await ScriptedGrpcServer.start(t, socketPath, (stream, headers) => {
    respondOk(stream, headers[':path'] === PROBE ? Buffer.from([0x0a, 0x02, 0x08, 0x01, 0x0a, 0x00]) : pluginInfoMessage(DRIVER));
  });
  const { sidecar, request } = await startInProcess(t, [`--csi-address=${socketPath}`]);
  assert.equal(await sidecar.driverName, DRIVER);
  const answer = await request();
  assert.deepEqual([answer.status, answer.body], [200, 'ok']);
});

test('verdict and snapshot: what /healthz and its verbose report show, without HTTP', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath);
  const { sidecar } = await startInProcess(t, [`--csi-address=${socketPath}`]);
  assert.deepEqual(sidecar.health.snapshot().lastCheck, undefined);
  assert.equal(await sidecar.driverName, DRIVER);
  assert.deepEqual(await sidecar.health.verdict(), { healthy: true, reason: 'ok' });
  const snapshot = sidecar.health.snapshot();
  assert.equal(snapshot.driverName, DRIVER);
  assert.equal(snapshot.address, `unix://${socketPath}`);
  assert.equal(snapshot.connectionState, 'READY');
  assert.equal(snapshot.lastCheck?.healthy, true);
  assert.equal(snapshot.lastCheck?.reason, 'ok');
});

test('close() with a Probe in flight: the waiting request gets a 500 saying so, within the shutdown limit', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  const driver = await FakeDriver.start(t, socketPath, ['--hang-probe']);
  const { sidecar, request } = await startInProcess(t, [`--csi-address=${socketPath}`, '--probe-timeout=30s']);
  await sidecar.driverName;
  const pending = request();
  await driver.waitForCalls('Probe', 1);
  const startedAt = performance.now();
  await sidecar.close();
  const closeMs = performance.now() - startedAt;
  const answer = await pending;
  assert.equal(answer.status, 500);
  assert.equal(answer.body, 'rpc error: code = Canceled desc = Probe cancelled: the sidecar is shutting down');
  assert.ok(closeMs < SHUTDOWN_LIMIT_MS, `close took ${closeMs} ms`);
});

test('close() before the driver ever answered: the name resolves undefined and no timer is left running', async (t) => {
  const timersBefore = activeTimers();
  const socketPath = path.join(makeTempDir(t), 'absent.sock');
  const { sidecar, request } = await startInProcess(t, [`--csi-address=${socketPath}`]);
  const waiting = await request();
  assert.equal(waiting.status, 500);
  assert.match(waiting.body, /^waiting for CSI driver at unix:\/\/.*absent\.sock: /);
  await sidecar.close();
  assert.equal(await sidecar.driverName, undefined);
  assert.equal(activeTimers(), timersBefore);
});

test('a listener that cannot listen: SidecarListenError naming which, and the listener opened before it closed', async (t) => {
  const busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '0.0.0.0', resolve));
  t.after(() => busy.close());
  const busyPort = (busy.address() as net.AddressInfo).port;
  const options = parseSidecarOptions([`--csi-address=${path.join(makeTempDir(t), 'csi.sock')}`, '--metrics-address=127.0.0.1:0', `--health-port=${busyPort}`]);
  const logged: string[] = [];
  const logger = new Logger({ format: 'text', verbosity: 0, infoStream: { write: (line: string) => logged.push(line) } as unknown as NodeJS.WritableStream });

  await assert.rejects(startSidecar(options, logger), (err: unknown) => {
    assert.ok(err instanceof SidecarListenError);
    assert.equal(err.role, 'health');
    assert.equal(err.message, `cannot listen on 0.0.0.0:${busyPort}: address already in use; pick another port or stop the other process`);
    return true;
  });
  const metricsAddress = /"Separate metrics ServeMux listening" address="([^"]+)"/.exec(logged.join(''))![1];
  const [host, port] = [metricsAddress.slice(0, metricsAddress.lastIndexOf(':')), Number(metricsAddress.slice(metricsAddress.lastIndexOf(':') + 1))];
  const refused = await new Promise<string>((resolve) => {
    const socket = net.connect(port, host, () => resolve('connected'));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
  assert.equal(refused, 'ECONNREFUSED');
});

test('issue #22: recentVerdict answers from a check finished within the age given, never older, and keeps such checks coming', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath, ['--probe-delay-ms', '300']);
  const { sidecar } = await startInProcess(t, [`--csi-address=${socketPath}`]);
  assert.equal(sidecar.health.recentVerdict(1_000), undefined, 'a verdict before any check finished');
  assert.equal(await sidecar.driverName, DRIVER);
  assert.deepEqual(await sidecar.health.verdict(), { healthy: true, reason: 'ok' });
  const firstFinishedAt = sidecar.health.snapshot().lastCheck!.finishedAt;
  // Answers without waiting, and starts a check for the requests after it.
  assert.deepEqual(sidecar.health.recentVerdict(1_000), { healthy: true, reason: 'ok' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(sidecar.health.recentVerdict(50), undefined, 'a verdict older than the age given');
  // 1.2 s after the first check: only the check recentVerdict started (300 ms) is recent enough.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assert.deepEqual(sidecar.health.recentVerdict(1_000), { healthy: true, reason: 'ok' });
  assert.ok(sidecar.health.snapshot().lastCheck!.finishedAt > firstFinishedAt, 'no check finished after the first');
});
