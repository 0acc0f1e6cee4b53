// Issue #20: where the Go original's behaviour is the contract. Each case is a
// public report reproduced against upstream v2.12.0, run here against the
// grpc-go test driver.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test, TestContext } from 'node:test';
import { JOIN_WINDOW_MS, MAX_CALLS_IN_FLIGHT } from '../../src/check/health-check';
import { httpRequest, HttpResult } from '../helpers/http';
import { startDriverAndSidecar } from '../helpers/pair';
import { rawExchange, splitResponses } from '../helpers/raw-http';
import { FakeDriver } from '../helpers/fake-driver';
import { Sidecar, SIDECAR_MAIN } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A kubelet probe: a new connection, one GET, given up after `timeoutMs` (the connection then closes). */
async function kubeletProbe(url: string, timeoutMs: number): Promise<HttpResult | Error> {
  return httpRequest(url, 'GET', timeoutMs).catch((err: Error) => err);
}

test('a GetPluginInfo slower than --probe-timeout is waited for, as upstream, not cancelled and retried (#20)', async (t) => {
  const { sidecar, driver } = await startDriverAndSidecar(t, { stack: 'grpc-go', driverArgs: ['--info-delay-ms', '2000'], sidecarArgs: ['--probe-timeout=1s'] });
  assert.equal((await sidecar.request()).status, 200);
  assert.equal(driver.calls('GetPluginInfo'), 1, 'one GetPluginInfo, answered after 2 s');
});

test('a GetPluginInfo that has not answered for 10 s says so at -v=0, and /healthz says what is awaited (#20)', { timeout: 40_000 }, async (t) => {
  const socketPath = `${makeTempDir(t)}/csi.sock`;
  const driver = await FakeDriver.start(t, socketPath, ['--info-delay-ms', '13000'], 'grpc-go');
  const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, '--http-endpoint=127.0.0.1:0']);
  await sidecar.waitUntilServing(15_000);
  const line = await sidecar.stderr.waitForLine(/GetPluginInfo has not answered/, 15_000);
  assert.match(line, new RegExp(`^W.*\\] "GetPluginInfo has not answered for 1\\ds; still waiting for the CSI driver's name" address="unix://${socketPath}"$`));
  assert.doesNotMatch(sidecar.stderr.text, /Still connecting/, 'the driver is there: not "Still connecting"');
  const waiting = await sidecar.request();
  assert.equal(waiting.status, 500);
  assert.match(waiting.body, new RegExp(`^waiting for CSI driver at unix://${socketPath}: GetPluginInfo has not answered for 1\\ds$`));
  await sidecar.waitForLog(/"CSI driver name"/, 10_000);
  assert.equal((await sidecar.request()).status, 200);
  assert.equal(driver.calls('GetPluginInfo'), 1);
});

test('a Probe stuck in the driver fails no probe once a newer Probe is answered, and is cancelled then, not at --probe-timeout (#20)', { timeout: 30_000 }, async (t) => {
  const { sidecar, driver } = await startDriverAndSidecar(t, { stack: 'grpc-go', driverArgs: ['--hang-probe-once'], sidecarArgs: ['--probe-timeout=20s'] });
  const url = `${sidecar.baseUrl}/healthz`;
  // Kubelet: periodSeconds 1, timeoutSeconds 3; the first Probe hangs in the driver, the rest are answered.
  const startedAt = performance.now();
  const probes: Promise<HttpResult | Error>[] = [];
  for (let i = 0; i < 5; i++) {
    probes.push(kubeletProbe(url, 3_000));
    await delay(1_000);
  }
  const results = await Promise.all(probes);
  // Upstream fails the first probe (its own Probe is stuck); here the second probe's Probe, sent after the first
  // asked and answered healthy, answers both (about 1 s, within the kubelet's 3 s). Every later one is its own.
  for (const [i, result] of results.entries()) {
    assert.ok(!(result instanceof Error) && result.status === 200, `probe ${i + 1}: ${result instanceof Error ? result.message : `${result.status} ${result.body}`}`);
  }
  assert.ok((results[0] as HttpResult).elapsedMs < 2_500, `the first probe waited ${(results[0] as HttpResult).elapsedMs} ms`);
  // Nobody needs the stuck call once a newer one answered: it is cancelled then, not at --probe-timeout (20 s).
  await driver.events.waitForLine(/"event":"cancelled","method":"Probe"/, 5_000);
  assert.ok(performance.now() - startedAt < 8_000, 'the stuck Probe was cancelled long before its 20 s deadline');
});

test(`checks arriving over time at a hung driver start at most one Probe per join window (${JOIN_WINDOW_MS} ms) (#20)`, async (t) => {
  const { sidecar, driver } = await startDriverAndSidecar(t, { stack: 'grpc-go', driverArgs: ['--hang-probe'], sidecarArgs: ['--probe-timeout=4s'] });
  const answers: Promise<HttpResult>[] = [];
  const startedAt = performance.now();
  for (let i = 0; i < 20; i++) {
    answers.push(sidecar.request());
    await delay(150);
  }
  const spreadMs = performance.now() - startedAt;
  for (const answer of await Promise.all(answers)) {
    assert.equal(answer.status, 500);
    assert.match(answer.body, /DeadlineExceeded/);
  }
  const calls = driver.calls('Probe');
  assert.ok(calls >= 2 && calls <= Math.ceil(spreadMs / JOIN_WINDOW_MS) + 1, `${calls} Probe calls for 20 checks over ${Math.round(spreadMs)} ms`);
  assert.ok(calls < MAX_CALLS_IN_FLIGHT);
});

test('after a hang, every kubelet probe passes once the driver answers, whoever else keeps stuck calls waiting (#20)', { timeout: 40_000 }, async (t) => {
  const { sidecar, driver } = await startDriverAndSidecar(t, { stack: 'grpc-go', driverArgs: ['--hang-probe'], sidecarArgs: ['--probe-timeout=20s'] });
  const url = `${sidecar.baseUrl}/healthz`;
  const origin = performance.now();
  const at = (ms: number) => delay(Math.max(0, origin + ms - performance.now()));
  // Clients that wait longer than the kubelet (a monitor, curl without -m) keep their stuck Probes alive.
  const patient = [500, 1_500, 2_500, 3_500].map(async (startMs) => {
    await at(startMs);
    return kubeletProbe(url, 30_000);
  });
  // Liveness, readiness and startup probes: period 1 s, timeout 3 s, out of phase.
  const probes: { startedMs: number; result: Promise<HttpResult | Error> }[] = [];
  const probers = [0, 333, 666].map(async (phaseMs) => {
    for (let startMs = phaseMs; startMs < 9_000; startMs += 1_000) {
      await at(startMs);
      probes.push({ startedMs: performance.now() - origin, result: kubeletProbe(url, 3_000) });
    }
  });
  await at(5_000);
  await driver.set({ hangProbe: false });
  const recoveredMs = performance.now() - origin;
  await Promise.all(probers);
  for (const probe of probes.filter((p) => p.startedMs >= recoveredMs)) {
    const result = await probe.result;
    assert.ok(!(result instanceof Error) && result.status === 200, `probe at ${Math.round(probe.startedMs)} ms, driver answering since ${Math.round(recoveredMs)} ms: ${result instanceof Error ? result.message : `${result.status} ${result.body}`}`);
  }
  for (const result of await Promise.all(patient)) assert.ok(!(result instanceof Error) && result.status === 200, `a patient client: ${result instanceof Error ? result.message : result.status}`);
});

test('a --probe-timeout past setTimeout\'s 24.8 days is honoured, not fired at once (#20)', async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { stack: 'grpc-go', sidecarArgs: ['--probe-timeout=1000h'] });
  const answer = await sidecar.request();
  assert.deepEqual([answer.status, answer.body], [200, 'ok']);
  assert.doesNotMatch(sidecar.stderr.text, /TimeoutOverflowWarning/);
});

test("unclean paths are redirected as Go's ServeMux does; escaped characters are decoded before matching (#20)", async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { stack: 'grpc-go' });
  const exchange = async (request: string) => splitResponses(await rawExchange(sidecar.baseUrl, `${request}\r\nHost: x\r\nConnection: close\r\n\r\n`), request.startsWith('HEAD'))[0];
  for (const [target, location] of [
    ['//healthz', '/healthz'],
    ['/./healthz', '/healthz'],
    ['/x/../healthz', '/healthz'],
    ['/../healthz', '/healthz'],
    ['//healthz?verbose', '/healthz?verbose'],
    ['/healthz/.', '/healthz'],
    ['/healthz/', '/healthz/'],
    ['//nothing', '/nothing'],
    ['/a%20b/../c%20d', '/c%20d'],
  ]) {
    const answer = await exchange(`GET ${target} HTTP/1.1`);
    if (target === '/healthz/') {
      assert.equal(answer.status, 404, target); // clean already: no such path
      continue;
    }
    assert.equal(answer.status, 301, target);
    assert.equal(answer.headers.get('location'), location, target);
    assert.equal(answer.headers.get('content-type'), 'text/html; charset=utf-8', target);
    assert.equal(answer.body, `<a href="${location}">Moved Permanently</a>.\n\n`, target);
  }
  const head = await exchange('HEAD //healthz HTTP/1.1');
  assert.deepEqual([head.status, head.headers.get('location'), head.body], [301, '/healthz', '']);
  const post = await exchange('POST //healthz HTTP/1.1');
  assert.deepEqual([post.status, post.headers.get('location'), post.headers.get('content-type'), post.body], [301, '/healthz', undefined, '']);
  for (const target of ['/%68ealthz', '/health%7a', '/%68%65%61%6C%74%68%7A']) {
    const answer = await exchange(`GET ${target} HTTP/1.1`);
    assert.deepEqual([answer.status, answer.body], [200, 'ok'], target);
  }
  assert.equal((await exchange('GET /%zzhealthz HTTP/1.1')).status, 400);
  // The kubelet follows the redirect (Go's client does): the probe passes.
  const followed = await fetch(`${sidecar.baseUrl}//healthz`);
  assert.deepEqual([followed.status, await followed.text(), followed.redirected], [200, 'ok', true]);
});

/**
 * The sidecar against the grpc-go driver in a real memory cgroup of `limitMiB`
 * (v1, as these machines and many nodes have; the unit tests cover v2's files),
 * removed after the test.
 */
async function startInMemoryCgroup(t: TestContext, limitMiB: number): Promise<Sidecar> {
  const cgroup = `/sys/fs/cgroup/memory/lp-test-${process.pid}-${limitMiB}`;
  fs.mkdirSync(cgroup);
  let sidecar: Sidecar | undefined;
  // The sidecar first: a cgroup with a process in it cannot be removed.
  t.after(async () => {
    await sidecar?.kill();
    fs.rmdirSync(cgroup);
  });
  fs.writeFileSync(`${cgroup}/memory.limit_in_bytes`, String(limitMiB * 1024 * 1024));
  const socketPath = `${makeTempDir(t)}/csi.sock`;
  await FakeDriver.start(t, socketPath, [], 'grpc-go');
  const inCgroup = { executable: '/bin/sh', leadingArgs: ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$0" "$@"`, process.execPath, SIDECAR_MAIN] };
  sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, '--http-endpoint=127.0.0.1:0'], inCgroup);
  await sidecar.waitForLog(/"CSI driver name"/, 15_000);
  return sidecar;
}

test('a memory limit from a Go-era chart (20Mi) is named at start with what to set, at -v=0 (#20)', async (t) => {
  const sidecar = await startInMemoryCgroup(t, 20);
  assert.match(
    sidecar.stderr.text,
    /^W[^\n]*\] "Container memory limit is below what this sidecar may need; it can be OOM-killed under load, and every probe then fails" limit="20Mi" need="96Mi" fix="raise this container's resources\.limits\.memory to 128Mi \(no flag lowers the need; charts made for the Go sidecar set 20-30Mi\)"$/m,
  );
});

test("no warning under the example manifests' 128Mi limit (#20)", async (t) => {
  const sidecar = await startInMemoryCgroup(t, 128);
  assert.doesNotMatch(sidecar.stderr.text, /Container memory limit/);
});

test('a GetPluginInfo waiting on a frozen driver moves to the driver that replaced its socket (#20)', { timeout: 40_000 }, async (t) => {
  const socketPath = `${makeTempDir(t)}/csi.sock`;
  const frozen = await FakeDriver.start(t, socketPath, ['--info-delay-ms', '60000', '--name', 'frozen.csi.example.com'], 'grpc-go');
  const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, '--http-endpoint=127.0.0.1:0']);
  await sidecar.waitUntilServing(15_000);
  await frozen.waitForCalls('GetPluginInfo', 1);
  frozen.process.kill('SIGSTOP');
  const replacement = await FakeDriver.start(t, socketPath, ['--name', 'replacement.csi.example.com'], 'grpc-go');
  const line = await sidecar.waitForLog(/"CSI driver name"/, 10_000);
  assert.match(line, /driver="replacement\.csi\.example\.com"/);
  assert.equal((await sidecar.request()).status, 200);
  assert.equal(replacement.calls('GetPluginInfo'), 1);
});
