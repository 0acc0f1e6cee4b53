// The short soak (issue #5): 20,000 checks through driver restarts and socket
// replacements, after a 20,000-check warm-up that runs each disruption once.
// The warm-up is that long because on Node 24 RSS still climbs to its plateau
// until about 10,000 checks (measured: 78.6 MiB at 5,000, then 80-81.7 MiB
// flat from 10,000 to 48,000), so a shorter one measured warm-up as growth.
// Fails on more than 2 MiB of RSS growth from the 10% mark, or any growth in
// open file descriptors. `npm run soak` runs the long one.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak';

test('short soak: RSS flat within 2 MiB and no descriptor growth over 20,000 checks', { timeout: 10 * 60_000 }, async () => {
  const lines: string[] = [];
  const report = await runSoak(20_000, { warmupChecks: 20_000, log: (line) => lines.push(line) });
  assert.ok(report.passed, `${report.problems.join('; ')}\n${lines.join('\n')}`);
  assert.ok(report.checks >= 20_000, `only ${report.checks} checks`);
  assert.ok((report.statusCounts['200'] ?? 0) > 10_000, JSON.stringify(report.statusCounts));
  assert.equal(report.samples.length, 10);
});
