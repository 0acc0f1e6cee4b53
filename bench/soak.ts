// Soak: drive many /healthz checks through driver restarts and socket
// replacements, and check that the sidecar's memory and file descriptors stay
// flat. Fails if RSS grows by more than 2 MiB from the 10% mark to the end,
// or if the number of open file descriptors grows.
//
// RSS growth is the least-squares trend of RSS read every 100 ms against the
// checks done, from the 10% mark to the end, not the last reading minus the
// first: a reading lands anywhere between two garbage collections, which
// moves RSS by up to 2 MiB either way under load (measured on Node 24: 67.7 to
// 70.4 MiB and back over 58,000 checks, flat over 600,000). The ten decile
// samples alone were too few: under CPU contention their trend reached 2.15 to
// 2.39 MiB on a flat plateau, where the readings' trend gave 1.52 to 1.81.
// A leak moves the trend as much as it moves the endpoints.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, readProcStats } from './proc';
import { buildBundleCommand, freePort, getStatus, Running, startDriver, startSubject, waitForHealthy } from './processes';

export const RSS_GROWTH_LIMIT_KIB = 2 * 1024;
const DRIVING_CONNECTIONS = 2;
const SAMPLE_READINGS = 10;
const SAMPLE_SPAN_MS = 2_000;
const RECOVERY_SETTLE_MS = 500;
/** How often RSS is read for the growth trend, from the 10% mark to the end. */
const TREND_READING_INTERVAL_MS = 100;

export interface SoakSample {
  readonly checksDone: number;
  readonly rssKiB: number;
  readonly heapUsedBytes: number;
  readonly openFds: number;
}

export interface SoakReport {
  readonly checks: number;
  readonly statusCounts: Record<string, number>;
  readonly disruptions: number;
  readonly samples: readonly SoakSample[];
  /** RSS read every TREND_READING_INTERVAL_MS against checks done, from the 10% mark to the end. */
  readonly trendReadings: readonly TrendPoint[];
  readonly rssGrowthKiB: number;
  readonly fdGrowth: number;
  readonly passed: boolean;
  readonly problems: readonly string[];
}

async function scrapeHeapUsed(metricsUrl: string): Promise<number> {
  const body = await new Promise<string>((resolve, reject) => {
    http.get(metricsUrl, { agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
  return Number(/^nodejs_heap_size_used_bytes (\S+)$/m.exec(body)?.[1] ?? NaN);
}

export interface SoakOptions {
  /**
   * Checks driven before counting starts, with one driver restart and one
   * socket replacement among them. V8's heap and compiled code keep growing
   * for the first few thousand checks and the first pass through each failure
   * path; a short soak that began measuring there would report that as growth.
   */
  readonly warmupChecks?: number;
  readonly log?: (line: string) => void;
}

export async function runSoak(checks: number, { warmupChecks = 0, log = () => undefined }: SoakOptions = {}): Promise<SoakReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-soak-'));
  const socketPath = path.join(dir, 'csi.sock');
  const command = await buildBundleCommand(path.join(dir, 'bundle')); // what the image runs
  let driver: Running = await startDriver(socketPath);
  const port = await freePort();
  const sidecar = startSubject(command, socketPath, port);
  const url = `http://127.0.0.1:${port}/healthz`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: DRIVING_CONNECTIONS });
  const statusCounts: Record<string, number> = {};
  const samples: SoakSample[] = [];
  const trendReadings: TrendPoint[] = [];
  let trendTimer: NodeJS.Timeout | undefined;
  let done = 0;
  let disruptions = 0;
  let finished = false;
  try {
    await waitForHealthy(url, 30_000);
    /**
     * RSS, heap and fds at a mark, each the median of readings spread over
     * SAMPLE_SPAN_MS while the load goes on: a single reading lands anywhere in
     * the garbage collector's cycle, which alone moves RSS by several MiB.
     */
    const sample = async () => {
      const rss: number[] = [];
      const fds: number[] = [];
      const heap: number[] = [];
      for (let i = 0; i < SAMPLE_READINGS; i++) {
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_SPAN_MS / SAMPLE_READINGS));
        const stats = readProcStats(sidecar.pid);
        rss.push(stats.rssKiB);
        fds.push(stats.openFds);
        heap.push(await scrapeHeapUsed(`http://127.0.0.1:${port}/metrics`));
      }
      const taken = { checksDone: done, rssKiB: median(rss), heapUsedBytes: median(heap), openFds: median(fds) };
      samples.push(taken);
      log(`${taken.checksDone} checks: RSS ${(taken.rssKiB / 1024).toFixed(1)} MiB, heap ${(taken.heapUsedBytes / 2 ** 20).toFixed(1)} MiB, fds ${taken.openFds}`);
    };
    /** Alternates between a killed-and-restarted driver and a socket replaced under a running one. */
    const disrupt = async () => {
      disruptions++;
      if (disruptions % 2 === 1) {
        await driver.stop('SIGKILL');
        driver = await startDriver(socketPath);
      } else {
        const old = driver;
        driver = await startDriver(socketPath); // removes the old file, binds a new one
        await old.stop('SIGKILL');
      }
    };
    const untilDone = async (count: number) => {
      while (done < count) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    /** After a disruption: wait for the driver to answer again, and for the sockets of the outage to close. */
    const untilRecovered = async () => {
      await waitForHealthy(url, 30_000);
      await new Promise((resolve) => setTimeout(resolve, RECOVERY_SETTLE_MS));
    };
    // Warm-up runs both kinds of disruption once, so the 10% baseline has seen every path
    // (first errors, first reconnect) and what it allocates once is not counted as growth.
    // Then samples at every tenth of the checks, a disruption after each but the last.
    const monitor = async () => {
      if (warmupChecks > 0) {
        for (const share of [0.5, 1]) {
          await untilDone(Math.floor(warmupChecks * share));
          await disrupt();
          await untilRecovered();
        }
      }
      done = 0;
      for (let decile = 1; decile <= 10; decile++) {
        await untilDone(Math.floor((checks * decile) / 10));
        await sample();
        if (decile === 1) {
          trendTimer = setInterval(() => trendReadings.push({ x: done, y: readProcStats(sidecar.pid).rssKiB }), TREND_READING_INTERVAL_MS);
        }
        if (decile < 10) {
          await disrupt();
          await untilRecovered();
        }
      }
      clearInterval(trendTimer);
      finished = true;
    };
    const drive = async () => {
      while (!finished) {
        done++;
        const status = await getStatus(url, agent);
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      }
    };
    await Promise.all([monitor(), ...Array.from({ length: DRIVING_CONNECTIONS }, drive)]);
  } finally {
    finished = true;
    clearInterval(trendTimer);
    agent.destroy();
    await sidecar.stop();
    await driver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const atTenPercent = samples[0];
  const atEnd = samples[samples.length - 1];
  const rssGrowthKiB = trendGrowth(trendReadings);
  const fdGrowth = atEnd.openFds - atTenPercent.openFds;
  const problems: string[] = [];
  if (rssGrowthKiB > RSS_GROWTH_LIMIT_KIB) problems.push(`RSS grew by ${(rssGrowthKiB / 1024).toFixed(2)} MiB (limit ${RSS_GROWTH_LIMIT_KIB / 1024} MiB)`);
  if (fdGrowth > 0) problems.push(`open file descriptors grew from ${atTenPercent.openFds} to ${atEnd.openFds}`);
  if (!statusCounts['200']) problems.push('no check succeeded');
  return { checks: done, statusCounts, disruptions, samples, trendReadings, rssGrowthKiB, fdGrowth, passed: problems.length === 0, problems };
}

export interface TrendPoint {
  readonly x: number;
  readonly y: number;
}

/** Growth of y from the first to the last x along the least-squares line of the points. */
export function trendGrowth(points: readonly TrendPoint[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const p of points) {
    covariance += (p.x - meanX) * (p.y - meanY);
    variance += (p.x - meanX) ** 2;
  }
  return variance === 0 ? 0 : (covariance / variance) * (points[n - 1].x - points[0].x);
}
