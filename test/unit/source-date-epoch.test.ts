// SOURCE_DATE_EPOCH as `npm run image` reads it (scripts/image/source-date-epoch.ts): a value the
// build cannot write is refused at the start, not after both images are built (the archive's ustar
// headers hold times up to 8^11 - 1 s, 2242-03-16; GNU tar refuses later ones).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SOURCE_DATE_EPOCH, sourceDateEpoch } from '../../scripts/image/source-date-epoch';

function withEpoch<T>(value: string, run: () => T): T {
  const saved = process.env.SOURCE_DATE_EPOCH;
  process.env.SOURCE_DATE_EPOCH = value;
  try {
    return run();
  } finally {
    if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH;
    else process.env.SOURCE_DATE_EPOCH = saved;
  }
}

test('SOURCE_DATE_EPOCH: whole seconds from 0 to the archive\'s last time are taken', () => {
  assert.equal(MAX_SOURCE_DATE_EPOCH, 8 ** 11 - 1);
  for (const [value, seconds] of [['0', 0], ['1700000000', 1700000000], ['4102444800', 4102444800], [String(8 ** 11 - 1), 8 ** 11 - 1]] as const) {
    assert.equal(withEpoch(value, sourceDateEpoch), seconds, value);
  }
});

test('SOURCE_DATE_EPOCH: not whole seconds, or later than the archive can hold, is refused naming the range', () => {
  for (const value of ['garbage', '1e9', '-1', ' 12', '1.5']) assert.throws(() => withEpoch(value, sourceDateEpoch), /expected whole seconds since 1970/, value);
  for (const value of [String(8 ** 11), '99999999999', '253402300800', '9007199254740993']) {
    assert.throws(() => withEpoch(value, sourceDateEpoch), /at most 8589934591 \(2242-03-16T12:56:31Z\)/, value);
  }
});
