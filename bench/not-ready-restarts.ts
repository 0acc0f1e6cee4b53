// `npm run bench:not-ready`: how many restarts a driver that
// answers Probe with ready: false for its first 40 s gets from a kubelet-style
// liveness prober, with upstream's verdict (no --not-ready-grace) and with a
// grace that covers the start-up. Measured, not reasoned: a real test driver,
// the real sidecar over real HTTP, and a prober that does what the kubelet's
// prober worker does with the probe settings:
// - it ticks every periodSeconds from the pod's start (half a period before
//   the driver container starts, so no tick lands on the instant the driver
//   gets ready); a tick while the container has run less than
//   initialDelaySeconds probes nothing;
// - a probe is a GET on a new connection, given up after timeoutSeconds;
//   200-399 is a success, anything else a failure;
// - failureThreshold failures in a row kill the container (here: the driver
//   process) and start it again, after the kubelet's crash-loop back-off
//   (none for the first restart, then 10 s doubling to 5 min); the new
//   container initializes from the start again, and its initialDelaySeconds
//   counts from its own start.
// The sidecar runs on through the driver's restarts, as its container does.
//
// Settings: the example DaemonSet's livenessProbe (read from
// deploy/kubernetes/csi-node-daemonset.yaml), and the kubelet's defaults for a
// livenessProbe that sets only httpGet (initialDelaySeconds 0, periodSeconds
// 10, timeoutSeconds 1, failureThreshold 3). The four runs go at once; each
// stops once its driver is ready and answered, or after --observe-seconds.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import * as http from 'node:http';
import { DRIVER_SCRIPT } from '../scripts/test-driver-path';
import { killAndWait, watchExit } from './child-exit';
import { freePort, waitForHealthy } from './processes';

const ROOT = path.resolve(__dirname, '..', '..');
const DAEMONSET = path.join(ROOT, 'deploy', 'kubernetes', 'csi-node-daemonset.yaml');
const SIDECAR_MAIN = path.join(ROOT, 'dist', 'src', 'main.js');
const MS_PER_SECOND = 1_000;
/** The kubelet's crash-loop back-off: 10 s after the second death, doubling, at most 5 min (kubelet's backOffPeriod, MaxContainerBackOff). */
const FIRST_BACKOFF_MS = 10_000;
const MAX_BACKOFF_MS = 300_000;
/** Successful probes of a ready driver that end a run. */
const SUCCESSES_TO_END = 2;
/** How long the sidecar may take to serve at start. */
const SIDECAR_START_LIMIT_MS = 15_000;

interface ProbeSettings {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
}

/** The Kubernetes API's defaults for a probe that sets none of these fields. */
const KUBELET_DEFAULTS: ProbeSettings = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };

/** The livenessProbe of the example DaemonSet's driver container, API defaults for what it leaves out. */
function manifestSettings(): ProbeSettings {
  const daemonSet = parse(fs.readFileSync(DAEMONSET, 'utf8'));
  const driver = daemonSet.spec.template.spec.containers.find((c: { livenessProbe?: unknown }) => c.livenessProbe);
  const probe = driver.livenessProbe as Partial<ProbeSettings>;
  return {
    initialDelaySeconds: probe.initialDelaySeconds ?? KUBELET_DEFAULTS.initialDelaySeconds,
    periodSeconds: probe.periodSeconds ?? KUBELET_DEFAULTS.periodSeconds,
    timeoutSeconds: probe.timeoutSeconds ?? KUBELET_DEFAULTS.timeoutSeconds,
    failureThreshold: probe.failureThreshold ?? KUBELET_DEFAULTS.failureThreshold,
  };
}

interface Scenario {
  readonly settingsName: string;
  readonly settings: ProbeSettings;
  /** --not-ready-grace, a Go duration; undefined for none (upstream's verdict). */
  readonly grace: string | undefined;
}

interface RunReport {
  readonly scenario: Scenario;
  /** Liveness kills: the container killed for failureThreshold failed probes in a row. */
  readonly restarts: number;
  readonly probes: number;
  readonly failures: number;
  /** Seconds from the pod's start until a driver instance answered ready; undefined if none did. */
  readonly readyAfterSeconds: number | undefined;
  readonly observedSeconds: number;
}

/** The driver container: the test driver, not ready for `notReadyMs` after its start, then ready. */
class DriverContainer {
  private child: ChildProcess | undefined;
  private exited: Promise<unknown> | undefined;
  private readyTimer: NodeJS.Timeout | undefined;
  startedAt = 0;
  /** performance.now() when an instance got ready; undefined while none has. */
  readyAt: number | undefined;

  constructor(
    private readonly socketPath: string,
    private readonly notReadyMs: number,
  ) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, [DRIVER_SCRIPT, '--socket', this.socketPath, '--quiet', '--ready', 'false'], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child = child;
    this.exited = watchExit(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`test driver exited with ${code} before listening`)));
    });
    this.startedAt = performance.now();
    this.readyTimer = setTimeout(() => {
      child.stdin!.write('{"ready":"true"}\n');
      this.readyAt ??= performance.now();
    }, this.notReadyMs);
  }

  async kill(): Promise<void> {
    clearTimeout(this.readyTimer);
    if (this.child && this.exited) await killAndWait(this.child, this.exited as Promise<never>, 'SIGKILL');
  }
}

/** One kubelet-style probe: a GET on a new connection; its status, or 0 when it failed or took longer than `timeoutMs`. */
function probeOnce(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', () => resolve(0));
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function runScenario(scenario: Scenario, notReadyMs: number, observeMs: number): Promise<RunReport> {
  const { settings } = scenario;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-not-ready-'));
  const driver = new DriverContainer(path.join(dir, 'csi.sock'), notReadyMs);
  const port = await freePort();
  const graceArgs = scenario.grace === undefined ? [] : [`--not-ready-grace=${scenario.grace}`];
  const sidecar = spawn(process.execPath, [SIDECAR_MAIN, `--csi-address=${path.join(dir, 'csi.sock')}`, `--http-endpoint=127.0.0.1:${port}`, '--probe-timeout=3s', ...graceArgs], { stdio: 'ignore' });
  const sidecarExited = watchExit(sidecar);
  const url = `http://127.0.0.1:${port}/healthz`;
  const periodMs = settings.periodSeconds * MS_PER_SECOND;
  let restarts = 0;
  let probes = 0;
  let failures = 0;
  try {
    // The sidecar serves from the start (500 "waiting for CSI driver") whatever the driver does.
    await waitForHealthy(url.replace('/healthz', '/metrics'), SIDECAR_START_LIMIT_MS);
    const podStartedAt = performance.now();
    await delay(periodMs / 2);
    await driver.start();
    let consecutiveFailures = 0;
    let successesWhileReady = 0;
    for (let tick = 1; performance.now() - podStartedAt < observeMs; tick++) {
      await delay(Math.max(0, podStartedAt + tick * periodMs - performance.now()));
      if (performance.now() - driver.startedAt < settings.initialDelaySeconds * MS_PER_SECOND) continue;
      probes++;
      const status = await probeOnce(url, settings.timeoutSeconds * MS_PER_SECOND);
      const passed = status >= 200 && status < 400;
      if (passed) {
        consecutiveFailures = 0;
        if (driver.readyAt !== undefined && ++successesWhileReady >= SUCCESSES_TO_END) break;
        continue;
      }
      failures++;
      if (++consecutiveFailures < settings.failureThreshold) continue;
      // The kubelet kills the container and starts it again, after its back-off from the second restart on.
      consecutiveFailures = 0;
      await driver.kill();
      const backOffMs = restarts === 0 ? 0 : Math.min(FIRST_BACKOFF_MS * 2 ** (restarts - 1), MAX_BACKOFF_MS);
      restarts++;
      const remainingMs = observeMs - (performance.now() - podStartedAt);
      if (backOffMs >= remainingMs) break; // killed; its restart would come after the observation ends
      await delay(backOffMs);
      await driver.start();
    }
    return {
      scenario,
      restarts,
      probes,
      failures,
      readyAfterSeconds: driver.readyAt === undefined ? undefined : (driver.readyAt - podStartedAt) / MS_PER_SECOND,
      observedSeconds: (performance.now() - podStartedAt) / MS_PER_SECOND,
    };
  } finally {
    await driver.kill();
    await killAndWait(sidecar, sidecarExited, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'not-ready-seconds': { type: 'string', default: '40' },
      'observe-seconds': { type: 'string', default: '240' },
      grace: { type: 'string', default: '60s' },
    },
  });
  const notReadyMs = Number(values['not-ready-seconds']) * MS_PER_SECOND;
  const observeMs = Number(values['observe-seconds']) * MS_PER_SECOND;
  if (!(notReadyMs >= 0 && observeMs > 0)) throw new Error('--not-ready-seconds and --observe-seconds must be numbers (seconds)');
  const settingsSets: [string, ProbeSettings][] = [
    ['example DaemonSet', manifestSettings()],
    ['kubelet defaults', KUBELET_DEFAULTS],
  ];
  const scenarios: Scenario[] = settingsSets.flatMap(([settingsName, settings]) => [undefined, values.grace].map((grace) => ({ settingsName, settings, grace })));
  process.stdout.write(`driver not ready for its first ${notReadyMs / MS_PER_SECOND} s after each start; ${scenarios.length} runs at once, each at most ${observeMs / MS_PER_SECOND} s\n`);
  const reports = await Promise.all(scenarios.map((scenario) => runScenario(scenario, notReadyMs, observeMs)));
  process.stdout.write('\n| livenessProbe settings | --not-ready-grace | restarts | probes | failed probes | driver ready after | observed |\n|---|---|---|---|---|---|---|\n');
  for (const report of reports) {
    const { settingsName, settings, grace } = report.scenario;
    const described = `${settingsName} (initialDelay ${settings.initialDelaySeconds}s, period ${settings.periodSeconds}s, timeout ${settings.timeoutSeconds}s, failureThreshold ${settings.failureThreshold})`;
    const ready = report.readyAfterSeconds === undefined ? 'never' : `${report.readyAfterSeconds.toFixed(1)} s`;
    // observed: until the driver was ready and answered twice, or the window ended (a last back-off cut short).
    process.stdout.write(`| ${described} | ${grace ?? 'none (upstream)'} | ${report.restarts} | ${report.probes} | ${report.failures} | ${ready} | ${report.observedSeconds.toFixed(0)} s |\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
