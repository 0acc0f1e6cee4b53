// `npm run soak -- --checks N [--warmup W]` (default 1,000,000 checks, no warm-up): see soak.ts. Exit 1 when it fails.

import { parseArgs } from 'node:util';
import { runSoak } from './soak';

const { values } = parseArgs({ options: { checks: { type: 'string', default: '1000000' }, warmup: { type: 'string', default: '0' } } });

runSoak(Number(values.checks), { warmupChecks: Number(values.warmup), log: (line) => process.stdout.write(`${line}\n`) })
  .then((report) => {
    process.stdout.write(
      `\n${report.checks} checks, ${report.disruptions} driver restarts/socket replacements, statuses ${JSON.stringify(report.statusCounts)}\n` +
        `RSS growth from the 10% mark to the end (least-squares trend of the samples): ${(report.rssGrowthKiB / 1024).toFixed(2)} MiB; fd growth: ${report.fdGrowth}\n` +
        (report.passed ? 'PASS\n' : `FAIL: ${report.problems.join('; ')}\n`),
    );
    process.exitCode = report.passed ? 0 : 1;
  })
  .catch((err) => {
    process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
