// Soak: drive many /healthz checks through driver restarts and socket
// replacements, and check that the sidecar's memory and file descriptors stay
// flat. Fails if RSS grows by more than 2 MiB between the 10% mark and the
// end, or if the number of open file descriptors grows.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { readProcStats } from './proc';
import { freePort, getStatus, OUR_COMMAND, Running, startDriver, startSubject, waitForHealthy } from './processes';

export const RSS_GROWTH_LIMIT_KIB = 2 * 1024;
const DRIVING_CONNECTIONS = 2;
const SETTLE_BEFORE_SAMPLE_MS = 300;

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

export async function runSoak(checks: number, log: (line: string) => void = () => undefined): Promise<SoakReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-soak-'));
  const socketPath = path.join(dir, 'csi.sock');
  let driver: Running = await startDriver(socketPath);
  const port = await freePort();
  const sidecar = startSubject(OUR_COMMAND, socketPath, port);
  const url = `http://127.0.0.1:${port}/healthz`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: DRIVING_CONNECTIONS });
  const statusCounts: Record<string, number> = {};
  const samples: SoakSample[] = [];
  let done = 0;
  let disruptions = 0;
  try {
    await waitForHealthy(url, 30_000);
    const sample = async () => {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_BEFORE_SAMPLE_MS));
      const stats = readProcStats(sidecar.pid);
      const taken = { checksDone: done, rssKiB: stats.rssKiB, heapUsedBytes: await scrapeHeapUsed(`http://127.0.0.1:${port}/metrics`), openFds: stats.openFds };
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

    const tenth = Math.max(1, Math.floor(checks / 10));
    let nextMark = tenth;
    for (let decile = 1; decile <= 10; decile++) {
      const target = decile === 10 ? checks : nextMark;
      await Promise.all(
        Array.from({ length: DRIVING_CONNECTIONS }, async () => {
          while (done < target) {
            done++;
            const status = await getStatus(url, agent);
            statusCounts[status] = (statusCounts[status] ?? 0) + 1;
          }
        }),
      );
      nextMark += tenth;
      await sample();
      if (decile < 10) await disrupt();
    }
  } finally {
    agent.destroy();
    await sidecar.stop();
    await driver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const atTenPercent = samples[0];
  const atEnd = samples[samples.length - 1];
  const rssGrowthKiB = atEnd.rssKiB - atTenPercent.rssKiB;
  const fdGrowth = atEnd.openFds - atTenPercent.openFds;
  const problems: string[] = [];
  if (rssGrowthKiB > RSS_GROWTH_LIMIT_KIB) problems.push(`RSS grew by ${(rssGrowthKiB / 1024).toFixed(2)} MiB (limit ${RSS_GROWTH_LIMIT_KIB / 1024} MiB)`);
  if (fdGrowth > 0) problems.push(`open file descriptors grew from ${atTenPercent.openFds} to ${atEnd.openFds}`);
  if (!statusCounts['200']) problems.push('no check succeeded');
  return { checks: done, statusCounts, disruptions, samples, rssGrowthKiB, fdGrowth, passed: problems.length === 0, problems };
}
