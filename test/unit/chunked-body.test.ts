import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChunkedBodySkipper } from '../../src/wire/http1/chunked-body';

const LIMIT = 64 * 1024;

/** Feeds `body` + "NEXT" whole, then byte by byte: the same verdict and the same end either way. */
function skip(body: string): string {
  const verdicts = [Buffer.from(`${body}NEXT`, 'latin1')].map((input) => {
    const whole = new ChunkedBodySkipper(LIMIT).feed(input);
    const bytewise = new ChunkedBodySkipper(LIMIT);
    let offset = 0;
    let last = bytewise.feed(input.subarray(0, 0));
    for (; offset < input.length; offset++) {
      last = bytewise.feed(input.subarray(offset, offset + 1));
      if (last.state !== 'more') break;
    }
    const describe = (progress: typeof whole, base: number) =>
      progress.state === 'done' ? `done, next ${JSON.stringify(input.toString('latin1', base + progress.consumed))}` : progress.state;
    const a = describe(whole, 0);
    const b = describe(last, offset);
    assert.equal(b, a, `fed byte by byte: ${JSON.stringify(body)}`);
    return a;
  });
  return verdicts[0];
}

test("chunked bodies: where they end, as Go's internal/chunked.go and readTrailer read them (RFC 9112 section 7.1)", () => {
  const cases: readonly [string, string][] = [
    ['5\r\nhello\r\n0\r\n\r\n', 'done, next "NEXT"'],
    ['0\r\n\r\n', 'done, next "NEXT"'],
    ['5;name=value\r\nhello\r\n0\r\n\r\n', 'done, next "NEXT"'],
    ['5 \t\r\nhello\r\n0\r\n\r\n', 'done, next "NEXT"'],
    ['5\nhello\r\n0\n\r\n', 'done, next "NEXT"'],
    ['A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n', 'done, next "NEXT"'],
    ['\r\n\r\n', 'done, next "NEXT"'],
    ['5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n', 'done, next "NEXT"'],
    ['0000000000000005\r\nhello\r\n0\r\n\r\n', 'done, next "NEXT"'],
    ['00000000000000005\r\nhello\r\n0\r\n\r\n', 'malformed'],
    ['5\r\nhelloXX', 'malformed'],
    ['5\nhello\n0\n\n', 'malformed'],
    ['x\r\n', 'malformed'],
    ['-5\r\n', 'malformed'],
    ['0x5\r\n', 'malformed'],
    ['5 ;x\r\n', 'malformed'],
    ['0\r\n folded: no\r\n\r\n', 'malformed'],
    ['0\r\nno colon\r\n\r\n', 'malformed'],
    ['10001\r\n', 'too-large'],
    [`${'1'.repeat(4095)}\r\n`, 'malformed'],
  ];
  for (const [body, verdict] of cases) assert.equal(skip(body), verdict, JSON.stringify(body));
});

test('chunked bodies: held bytes are bounded (size line and trailer section 4 KiB, data by the limit)', () => {
  const skipper = new ChunkedBodySkipper(LIMIT);
  assert.deepEqual(skipper.feed(Buffer.from('0\r\nX: '.padEnd(5000, 'a'), 'latin1')), { state: 'malformed', reason: 'trailer section over 4096 bytes' });
  assert.equal(new ChunkedBodySkipper(10).feed(Buffer.from('8\r\n01234567\r\n8\r\n', 'latin1')).state, 'too-large');
});
