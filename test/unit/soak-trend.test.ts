// The soak's growth measure: the least-squares trend of its samples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trendGrowth } from '../../bench/soak';

test('trend growth: a steady leak counts whole, a sawtooth of garbage collections does not', () => {
  assert.equal(trendGrowth([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]), 9);
  assert.equal(trendGrowth([70, 70, 70, 70]), 0);
  // The CI sample that failed the endpoint measure (67.7 -> 70.4 MiB, +2.7) without a trend of 2 MiB.
  const measured = [67.7, 69.3, 68.2, 69.0, 69.9, 68.9, 69.4, 68.7, 69.4, 70.4];
  assert.ok(Math.abs(trendGrowth(measured) - 1.51) < 0.01, String(trendGrowth(measured)));
  // A 3 MiB leak under the same noise is still caught.
  assert.ok(trendGrowth(measured.map((value, index) => value + (3 * index) / 9)) > 2);
});
