// Issue #11: nothing a client does (hold connections idle, half-sent or with a
// trickling body; pipeline requests and never read) keeps the kubelet's probe
// from being answered or grows memory without bound. The attackers run in a
// process of their own and re-open every connection the sidecar closes.
import assert from 'node:assert/strict';
import { test, TestContext } from 'node:test';
import { probeLoop, ProbeResult, startAttack } from '../../bench/attackers';
import { readProcStats } from '../../bench/proc';
import { parseExposition, seriesKey } from '../helpers/exposition';
import { startDriverAndSidecar, withOpenFileLimit } from '../helpers/pair';
import { SHIPPED_OPTIONS_COMMAND, Sidecar } from '../helpers/sidecar';

/** Kubelet's default probe timeout is 1 s; probes run several times a second. */
const PROBE_TIMEOUT_MS = 1_000;
const PROBE_INTERVAL_MS = 200;
const PROBE_LOOP_MS = 8_000;

function portOf(sidecar: Sidecar): number {
  return Number(new URL(sidecar.baseUrl).port);
}

function assertAllHealthy(results: readonly ProbeResult[]): void {
  const failed = results.filter((r) => r.status !== 200);
  assert.deepEqual(failed, [], `${failed.length} of ${results.length} probes failed`);
  assert.ok(results.length >= PROBE_LOOP_MS / PROBE_INTERVAL_MS / 2, `only ${results.length} probes sent`);
}

test('2,000 held connections (idle, half head, slow body; re-opened when closed): every kubelet probe gets 200', { timeout: 60_000 }, async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { command: SHIPPED_OPTIONS_COMMAND });
  const attack = startAttack(portOf(sidecar), 2_000, 'mixed');
  t.after(() => attack.stop());
  await attack.waitUntilOpen(1_500, 20_000);
  assertAllHealthy(await probeLoop(`${sidecar.baseUrl}/healthz`, PROBE_LOOP_MS, PROBE_INTERVAL_MS, PROBE_TIMEOUT_MS));
  assert.ok(attack.open() >= 1_500, `only ${attack.open()} attacking connections open at the end`);
});

test('open-file limit 256: connections past the budget shed oldest first; probes answered, shedding logged and counted', { timeout: 60_000 }, async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { sidecarArgs: ['-v=2'], command: withOpenFileLimit(256, SHIPPED_OPTIONS_COMMAND) });
  await sidecar.waitForLog(/"HTTP connection budget" connections=192 limitedBy="open-file limit" openFileLimit=256/, 5_000);
  const attack = startAttack(portOf(sidecar), 600, 'mixed');
  t.after(() => attack.stop());
  await attack.waitUntilOpen(150, 20_000);
  assertAllHealthy(await probeLoop(`${sidecar.baseUrl}/healthz`, PROBE_LOOP_MS, PROBE_INTERVAL_MS, PROBE_TIMEOUT_MS));
  await sidecar.waitForLog(/"Closed HTTP connections early" budget=192 /, 5_000);
  const metrics = parseExposition((await sidecar.request('/metrics')).body);
  const shed = (reason: string) => metrics.samples.get(seriesKey('csi_livenessprobe_http_connections_shed_total', { reason })) ?? 0;
  assert.ok(shed('header-incomplete') + shed('idle') > 100, `shed: ${shed('idle')} idle, ${shed('header-incomplete')} header-incomplete`);
  assert.equal(shed('all-busy'), 0);
});

test('32 clients pipelining requests and never reading: RSS bounded, every kubelet probe gets 200', { timeout: 60_000 }, async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { command: SHIPPED_OPTIONS_COMMAND });
  const pid = sidecar.process.pid!;
  for (let i = 0; i < 20; i++) assert.equal((await sidecar.request()).status, 200);
  const rssBeforeKiB = readProcStats(pid).rssKiB;
  const attack = startAttack(portOf(sidecar), 32, 'pipeline');
  t.after(() => attack.stop());
  assertAllHealthy(await probeLoop(`${sidecar.baseUrl}/healthz`, PROBE_LOOP_MS, PROBE_INTERVAL_MS, PROBE_TIMEOUT_MS));
  const growthKiB = readProcStats(pid).peakRssKiB - rssBeforeKiB;
  // Before the fix one such client took RSS to 170 MB, 32 of them to 1.28 GB.
  assert.ok(growthKiB < 32 * 1024, `peak RSS grew by ${Math.round(growthKiB / 1024)} MiB under the pipelining flood`);
  await sidecar.waitForLog(/"Closed HTTP connections early" budget=\d+ pipelining=\d+/, 5_000);
});

/** The kubelet's limit in these tests: its timeoutSeconds of 2 s is the contract, not a speed target. */
const BUSY_PROBE_TIMEOUT_MS = 2_000;
/** A driver whose Probe takes this long keeps every attacking request busy most of the time. */
const SLOW_PROBE_MS = 800;
const BUSY_OPEN_FILE_LIMIT = 200;
const BUSY_ATTACKERS = 200;

/**
 * Issue #22: under a 200-descriptor limit (budget 136) 200 attackers keep a
 * /healthz request in flight on every connection they hold against a slow
 * driver. Before the fix 1 probe of 40 was answered: a connection with a
 * request being answered was never shed, so once every slot held one, each
 * new connection, the kubelet's included, was closed.
 */
async function assertProbesAnsweredWhileBusy(t: TestContext, mode: 'repeat' | 'churn', probeDelayMs = SLOW_PROBE_MS): Promise<void> {
  const { sidecar } = await startDriverAndSidecar(t, {
    driverArgs: ['--probe-delay-ms', String(probeDelayMs)],
    command: withOpenFileLimit(BUSY_OPEN_FILE_LIMIT, SHIPPED_OPTIONS_COMMAND),
  });
  const pid = sidecar.process.pid!;
  assert.equal((await sidecar.request()).status, 200);
  const before = readProcStats(pid);
  let fdsPeak = before.openFds;
  const sampler = setInterval(() => (fdsPeak = Math.max(fdsPeak, readProcStats(pid).openFds)), 100);
  t.after(() => clearInterval(sampler));
  const attack = startAttack(portOf(sidecar), BUSY_ATTACKERS, mode);
  t.after(() => attack.stop());
  await attack.waitUntilOpen(100, 20_000);
  const results = await probeLoop(`${sidecar.baseUrl}/healthz`, PROBE_LOOP_MS, PROBE_INTERVAL_MS, BUSY_PROBE_TIMEOUT_MS);
  const answersDuringProbes = attack.answers();
  await attack.stop();
  clearInterval(sampler);
  assertAllHealthy(results);
  assert.ok(answersDuringProbes > 0, 'the attackers were never answered: they did not keep requests in flight');
  const during = readProcStats(pid);
  const growthMiB = (during.peakRssKiB - before.rssKiB) / 1024;
  assert.ok(growthMiB < 48, `peak RSS grew by ${growthMiB.toFixed(1)} MiB under the attack`);
  assert.ok(fdsPeak < BUSY_OPEN_FILE_LIMIT, `${fdsPeak} descriptors open at the peak: accept() ran into the limit`);
  // Back after: descriptors return once the attackers are gone (closed connections, nothing leaked).
  const deadline = Date.now() + 10_000;
  let fdsAfter = readProcStats(pid).openFds;
  while (fdsAfter > before.openFds + 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    fdsAfter = readProcStats(pid).openFds;
  }
  assert.ok(fdsAfter <= before.openFds + 2, `${fdsAfter} descriptors open 10 s after the attack, ${before.openFds} before`);
  assert.equal((await sidecar.request()).status, 200);
}

test(`issue #22: open-file limit ${BUSY_OPEN_FILE_LIMIT}, ${BUSY_ATTACKERS} keep-alive connections each with a request always in flight, driver Probe ${SLOW_PROBE_MS} ms: every kubelet probe gets 200 within 2 s`, { timeout: 90_000 }, (t) =>
  assertProbesAnsweredWhileBusy(t, 'repeat'),
);

test(`issue #22: open-file limit ${BUSY_OPEN_FILE_LIMIT}, ${BUSY_ATTACKERS} clients each opening a new connection per request (Connection: close) as fast as answered, driver Probe ${SLOW_PROBE_MS} ms: every kubelet probe gets 200 within 2 s`, { timeout: 90_000 }, (t) =>
  assertProbesAnsweredWhileBusy(t, 'churn'),
);

// The other measurement: the same 200 repeaters against a driver that answers at once (35 of 40 before).
test(`issue #22: open-file limit ${BUSY_OPEN_FILE_LIMIT}, ${BUSY_ATTACKERS} keep-alive connections each with a request always in flight, driver answering at once: every kubelet probe gets 200 within 2 s`, { timeout: 90_000 }, (t) =>
  assertProbesAnsweredWhileBusy(t, 'repeat', 0),
);
