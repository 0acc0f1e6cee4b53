// Metrics as a scraper sees them, from the real sidecar over real HTTP.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, TestContext } from 'node:test';
import { familySamples, parseExposition, promtoolCheck, seriesKey } from '../helpers/exposition';
import { FakeDriver } from '../helpers/fake-driver';
import { httpRequest } from '../helpers/http';
import { startDriverAndSidecar } from '../helpers/pair';
import { SHIPPED_OPTIONS_COMMAND, Sidecar } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

const OPERATIONS = 'csi_sidecar_operations_seconds';
const BUCKETS = ['0.1', '0.25', '0.5', '1', '2.5', '5', '10', '15', '25', '50', '120', '300', '600', '+Inf'];
const DRIVER = 'test.csi.example.com';
const PROBE = '/csi.v1.Identity/Probe';
const GET_PLUGIN_INFO = '/csi.v1.Identity/GetPluginInfo';

/** The samples one labelled histogram series has after `count` observations that all fell in the first bucket up to `fromBucket`. */
function histogramSeries(driver: string, status: string, method: string, count: number, fromBucket = '0.1'): [string, number][] {
  const labels = { driver_name: driver, grpc_status_code: status, method_name: method };
  const first = BUCKETS.indexOf(fromBucket);
  return [
    ...BUCKETS.map((le, index): [string, number] => [seriesKey(`${OPERATIONS}_bucket`, { ...labels, le }), index >= first ? count : 0]),
    [seriesKey(`${OPERATIONS}_count`, labels), count],
  ];
}

async function startWithMetrics(t: TestContext, driverArgs: string[] = [], sidecarArgs: string[] = []) {
  const { socketPath, driver, sidecar } = await startDriverAndSidecar(t, { driverArgs, sidecarArgs });
  const scrape = async () => {
    const result = await sidecar.request('/metrics');
    assert.equal(result.status, 200);
    assert.equal(result.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    return { text: result.body, exposition: parseExposition(result.body) };
  };
  return { socketPath, driver, sidecar, scrape };
}

test('after N healthy checks: upstream histogram exactly, process start time, our series', async (t) => {
  const { sidecar, scrape } = await startWithMetrics(t);
  for (let i = 0; i < 3; i++) assert.equal((await sidecar.request()).status, 200);
  const { exposition } = await scrape();

  assert.equal(exposition.help.get(OPERATIONS), '[ALPHA] Container Storage Interface operation duration with gRPC error code status total');
  assert.equal(exposition.type.get(OPERATIONS), 'histogram');
  assert.deepEqual(
    familySamples(exposition, OPERATIONS),
    new Map([...histogramSeries('unknown-driver', 'OK', GET_PLUGIN_INFO, 1), ...histogramSeries(DRIVER, 'OK', PROBE, 3)]),
  );
  assert.equal(exposition.type.get('process_start_time_seconds'), 'gauge');
  assert.equal(exposition.help.get('process_start_time_seconds'), '[ALPHA] Start time of the process since unix epoch in seconds.');
  const startTime = exposition.samples.get('process_start_time_seconds')!;
  assert.ok(Math.abs(startTime - Date.now() / 1000) < 120, `process_start_time_seconds ${startTime}`);

  assert.equal(exposition.samples.get('csi_livenessprobe_last_check_success'), 1);
  assert.ok(Math.abs(exposition.samples.get('csi_livenessprobe_last_success_timestamp_seconds')! - Date.now() / 1000) < 60);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_healthz_requests_total', { code: '200' })), 3);
  assert.equal(exposition.samples.get('csi_livenessprobe_shared_checks_total'), 0);
  assert.equal(exposition.samples.get('csi_livenessprobe_driver_ready'), 1);
  assert.equal(exposition.type.get('csi_livenessprobe_readyz_requests_total'), 'counter');
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_connection_transitions_total', { from: 'CONNECTING', to: 'READY' })), 1);
  for (const nodeSeries of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']) {
    assert.ok(exposition.samples.has(nodeSeries), nodeSeries);
  }
});

test('failing checks are recorded under their status: DeadlineExceeded, Unavailable, unknown-non-grpc', async (t) => {
  const { sidecar, driver, socketPath, scrape } = await startWithMetrics(t, ['--hang-probe'], ['--probe-timeout=300ms']);
  assert.equal((await sidecar.request()).status, 500); // hung: DeadlineExceeded
  await driver.kill('SIGKILL');
  assert.equal((await sidecar.request()).status, 500); // socket file left behind, nobody listening: Unavailable
  fs.rmSync(socketPath);
  assert.equal((await sidecar.request()).status, 500); // no socket file: refused before gRPC
  const { exposition } = await scrape();
  assert.deepEqual(
    familySamples(exposition, OPERATIONS),
    new Map([
      ...histogramSeries('unknown-driver', 'OK', GET_PLUGIN_INFO, 1),
      ...histogramSeries(DRIVER, 'DeadlineExceeded', PROBE, 1, '0.5'),
      ...histogramSeries(DRIVER, 'Unavailable', PROBE, 1),
      ...histogramSeries(DRIVER, 'unknown-non-grpc', PROBE, 1),
    ]),
  );
  assert.equal(exposition.samples.get('csi_livenessprobe_last_check_success'), 0);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_healthz_requests_total', { code: '500' })), 3);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_connection_transitions_total', { from: 'READY', to: 'IDLE' })), 1);
});

test('ready=false: the call is OK, the check is not', async (t) => {
  const { sidecar, scrape } = await startWithMetrics(t, ['--ready', 'false']);
  assert.equal((await sidecar.request()).status, 500);
  const { exposition } = await scrape();
  assert.equal(exposition.samples.get(seriesKey(`${OPERATIONS}_count`, { driver_name: DRIVER, grpc_status_code: 'OK', method_name: PROBE })), 1);
  assert.equal(exposition.samples.get('csi_livenessprobe_last_check_success'), 0);
  assert.equal(exposition.samples.get('csi_livenessprobe_last_success_timestamp_seconds'), 0);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_healthz_requests_total', { code: '500' })), 1);
  assert.equal(exposition.samples.get('csi_livenessprobe_driver_ready'), 0);
});

test('issue #28: csi_livenessprobe_driver_ready has no sample before the first answer, follows the answers, and a failed call leaves it', async (t) => {
  const { sidecar, driver, scrape } = await startWithMetrics(t, ['--ready', 'false'], ['--not-ready-grace=1m']);
  const before = await scrape();
  assert.equal(before.exposition.type.get('csi_livenessprobe_driver_ready'), 'gauge');
  assert.equal(
    before.exposition.help.get('csi_livenessprobe_driver_ready'),
    "The CSI driver's last Probe answer: 1 ready (ready true or absent), 0 not ready (initializing); failed calls leave it; no sample before the first answer.",
  );
  assert.ok(!before.exposition.samples.has('csi_livenessprobe_driver_ready'), before.text);

  assert.equal((await sidecar.request('/healthz')).status, 200); // within the grace
  assert.equal((await sidecar.request('/readyz')).status, 500);
  let { exposition } = await scrape();
  assert.equal(exposition.samples.get('csi_livenessprobe_driver_ready'), 0);
  // The check's success is /healthz's verdict: within the grace, it passed.
  assert.equal(exposition.samples.get('csi_livenessprobe_last_check_success'), 1);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_healthz_requests_total', { code: '200' })), 1);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_readyz_requests_total', { code: '500' })), 1);

  await driver.set({ probeError: 'UNAVAILABLE' });
  assert.equal((await sidecar.request('/readyz')).status, 500);
  ({ exposition } = await scrape());
  assert.equal(exposition.samples.get('csi_livenessprobe_driver_ready'), 0, 'a failed call is no answer');
  assert.equal(exposition.samples.get('csi_livenessprobe_last_check_success'), 0);

  await driver.set({ probeError: '', ready: 'absent' });
  assert.equal((await sidecar.request('/readyz')).status, 200);
  ({ exposition } = await scrape());
  assert.equal(exposition.samples.get('csi_livenessprobe_driver_ready'), 1);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_readyz_requests_total', { code: '500' })), 2);
  assert.equal(exposition.samples.get(seriesKey('csi_livenessprobe_readyz_requests_total', { code: '200' })), 1);
  const result = await promtoolCheck((await scrape()).text);
  assert.equal(result.code, 0, result.output);
});

test('requests that join an in-flight Probe are counted', async (t) => {
  const { sidecar, driver, scrape } = await startWithMetrics(t, ['--hang-probe'], ['--probe-timeout=1s']);
  await Promise.all(Array.from({ length: 5 }, () => sidecar.request()));
  assert.equal(driver.calls('Probe'), 1);
  const { exposition } = await scrape();
  assert.equal(exposition.samples.get('csi_livenessprobe_shared_checks_total'), 4);
});

test('scraping never calls the driver', async (t) => {
  const { driver, scrape } = await startWithMetrics(t);
  for (let i = 0; i < 5; i++) await scrape();
  assert.equal(driver.calls('Probe'), 0);
  assert.equal(driver.calls('GetPluginInfo'), 1);
});

test('--metrics-path moves the metrics', async (t) => {
  const { sidecar } = await startWithMetrics(t, [], ['--metrics-path=/custom/metrics']);
  assert.equal((await sidecar.request('/custom/metrics')).status, 200);
  assert.equal((await sidecar.request('/metrics')).status, 404);
});

test('--metrics-address: its own listener serves metrics only; the health listener serves no metrics', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath);
  const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, '--health-port=0', '--metrics-address=127.0.0.1:0']);
  await sidecar.waitUntilServing(15_000);
  await sidecar.waitForLog(/"CSI driver name"/, 15_000);
  const metricsLine = await sidecar.stderr.waitForLine(/"Separate metrics ServeMux listening"/, 1_000);
  const metricsUrl = `http://${/address="([^"]+)"/.exec(metricsLine)![1]}`;
  assert.equal((await httpRequest(`${metricsUrl}/metrics`)).status, 200);
  assert.equal((await httpRequest(`${metricsUrl}/healthz`)).status, 404);
  assert.equal((await sidecar.request('/healthz')).status, 200);
  assert.equal((await sidecar.request('/metrics')).status, 404);
});

test('with neither --http-endpoint nor --metrics-address there are no metrics', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath);
  const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, '--health-port=0']);
  await sidecar.waitUntilServing(15_000);
  await sidecar.waitForLog(/"CSI driver name"/, 15_000);
  assert.equal((await sidecar.request('/healthz')).status, 200);
  assert.equal((await sidecar.request('/metrics')).status, 404);
});

test('promtool accepts a real scrape', async (t) => {
  const { sidecar, scrape } = await startWithMetrics(t, ['--probe-error', 'UNAVAILABLE']);
  await sidecar.request();
  const { text } = await scrape();
  const result = await promtoolCheck(text);
  assert.equal(result.code, 0, result.output);
});

/** The clock tick /proc counts CPU time in (USER_HZ, 100 on Linux). */
const PROC_CLOCK_TICK_SECONDS = 0.01;

/** CPU time (user and system, every thread) the process has used so far, from /proc/<pid>/stat: the kernel's count, not the process's own. */
function procCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name's closing parenthesis: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[14 - 3]) + Number(fields[15 - 3])) * PROC_CLOCK_TICK_SECONDS;
}

test('issue #33: the first scrape counts what came before it, though the series read when scraped are registered then: CPU since the process started, GCs since start-up', async (t) => {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath);
  // The image's V8 options: with 1 MiB semi-spaces start-up runs young-generation GCs.
  const sidecar = await Sidecar.start(t, [`--csi-address=${socketPath}`, '--http-endpoint=127.0.0.1:0'], 15_000, SHIPPED_OPTIONS_COMMAND);
  assert.equal((await sidecar.request()).status, 200);
  const usedBeforeScrape = procCpuSeconds(sidecar.process.pid!);
  const result = await sidecar.request('/metrics');
  assert.equal(result.status, 200);
  const { samples } = parseExposition(result.body);
  const cpu = samples.get('process_cpu_seconds_total')!;
  assert.ok(cpu >= usedBeforeScrape - PROC_CLOCK_TICK_SECONDS, `process_cpu_seconds_total ${cpu} s, but the process had used ${usedBeforeScrape} s before the scrape`);
  const userAndSystem = samples.get('process_cpu_user_seconds_total')! + samples.get('process_cpu_system_seconds_total')!;
  assert.ok(Math.abs(userAndSystem - cpu) < 1e-3, `user + system ${userAndSystem} s against the total ${cpu} s`);
  const gcs = [...samples].filter(([key]) => key.startsWith('nodejs_gc_duration_seconds_count')).reduce((sum, [, count]) => sum + count, 0);
  assert.ok(gcs >= 1, `nodejs_gc_duration_seconds counted no GC before the first scrape:\n${result.body}`);
});

/** Context switches of the process's main thread so far (voluntary and not). */
function mainThreadSwitches(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return [...status.matchAll(/ctxt_switches:\s+(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

test('idle with metrics served: no periodic wake-ups (issue #15: prom-client sampled the event loop 100 times a second)', async (t) => {
  const { sidecar, scrape } = await startWithMetrics(t);
  const { exposition } = await scrape(); // everything a scrape loads is loaded
  assert.ok(exposition.samples.get('nodejs_eventloop_lag_seconds')! >= 0);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const before = mainThreadSwitches(sidecar.process.pid!);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const switches = mainThreadSwitches(sidecar.process.pid!) - before;
  // A 100 Hz sampler alone makes about 300 here; what is left is V8 settling after start-up.
  assert.ok(switches < 60, `the main thread was switched ${switches} times in 3 idle seconds`);
});
