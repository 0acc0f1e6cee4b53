import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatGrpcTimeout, frameMessage, MessageDeframer } from '../../src/wire/grpc/message-framing';
import { decodeGrpcMessage, isBinaryHeaderValue, isGrpcContentType, judgeResponseHeaders, judgeTrailers, parseGrpcStatusCode } from '../../src/wire/grpc/response-rules';

const MAX_MESSAGE_BYTES = 64 * 1024;
const latin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

test('grpc-timeout: at most 8 digits, coarser units for long deadlines, rounded up', () => {
  const cases: readonly [number, string][] = [
    [0, '0m'],
    [1, '1m'],
    [2.2, '3m'],
    [3_000, '3000m'],
    [99_999_999, '99999999m'],
    [100_000_000, '100000S'],
    [100_000_000_000, '1666667M'],
    [1e15, '99999999H'],
  ];
  for (const [ms, header] of cases) assert.equal(formatGrpcTimeout(ms), header, String(ms));
});

test('grpc-message: percent-decoding of UTF-8, malformed escapes kept', () => {
  const cases: readonly [string, string][] = [
    ['plain text', 'plain text'],
    ['100%25', '100%'],
    ['a%3Ab', 'a:b'],
    ['%C3%BC%E2%9C%93', 'ü✓'],
    ['50%', '50%'],
    ['%zz%4', '%zz%4'],
    ['%0A', '\n'],
    ['%4', '%4'],
    ['%%41', '%A'],
    // Issue #21: raw UTF-8 (the field's bytes, one character each) is UTF-8 too, as grpc-go reads it.
    [latin1('café'), 'café'],
    [latin1('café 100%25'), 'café 100%'],
    ['\xff', '\ufffd'],
  ];
  for (const [encoded, decoded] of cases) assert.equal(decodeGrpcMessage(encoded), decoded, encoded);
});

test('grpc-status: 1*DIGIT up to 2^32-1 (grpc-go: strconv.ParseUint(v, 10, 32))', () => {
  const cases: readonly [string, number | string][] = [
    ['0', 0],
    ['14', 14],
    ['007', 7],
    ['4294967295', 4294967295],
    ['4294967296', 'value out of range'],
    ['00000000000000000001', 1],
    ['', 'invalid syntax'],
    ['+0', 'invalid syntax'],
    ['-1', 'invalid syntax'],
    [' 0', 'invalid syntax'],
    ['0x1', 'invalid syntax'],
    ['1e3', 'invalid syntax'],
  ];
  for (const [value, expected] of cases) {
    const parsed = parseGrpcStatusCode(value);
    assert.deepEqual(typeof parsed === 'number' ? parsed : parsed.kind === 'malformed-grpc-status' && parsed.reason, expected, JSON.stringify(value));
  }
});

test('content-type: application/grpc, or followed by "+" or ";" (grpc-go grpcutil.ContentSubtype)', () => {
  for (const value of ['application/grpc', 'application/grpc+proto', 'application/grpc;charset=utf-8', 'application/grpc+']) assert.equal(isGrpcContentType(value), true, value);
  for (const value of ['application/grpcx', 'Application/grpc', 'application/json', '', ' application/grpc', 'application/gr']) assert.equal(isGrpcContentType(value), false, value);
});

test('response headers: :status exactly 200 and a gRPC content-type; the status only where the stream ends', () => {
  const grpc: [string, string] = ['content-type', 'application/grpc'];
  assert.deepEqual(judgeResponseHeaders([[':status', '200'], grpc, ['grpc-status', '0']], false), { ok: true, encoding: undefined, status: undefined });
  assert.deepEqual(judgeResponseHeaders([[':status', '200'], grpc, ['grpc-status', '5'], ['grpc-message', 'gone']], true), { ok: true, encoding: undefined, status: { code: 5, message: 'gone' } });
  assert.deepEqual(judgeResponseHeaders([[':status', '200'], grpc], true), { ok: true, encoding: undefined, status: { code: 2, message: '' } });
  const problems: readonly [[string, string][], unknown][] = [
    [[grpc], { kind: 'not-a-grpc-response', httpStatus: undefined, contentType: undefined }],
    [[[':status', '503'], grpc], { kind: 'not-a-grpc-response', httpStatus: 503, contentType: undefined }],
    [[[':status', '200']], { kind: 'not-a-grpc-response', httpStatus: 200, contentType: null }],
    [[[':status', '200'], ['content-type', 'text/html']], { kind: 'not-a-grpc-response', httpStatus: 200, contentType: 'text/html' }],
    [[[':status', '0200'], grpc], { kind: 'malformed-http-status', value: '0200' }],
    [[[':status', '20'], grpc], { kind: 'malformed-http-status', value: '20' }],
    [[[':status', '200'], grpc, ['grpc-status', 'x']], { kind: 'malformed-grpc-status', value: 'x', reason: 'invalid syntax' }],
  ];
  for (const [fields, problem] of problems) assert.deepEqual(judgeResponseHeaders(fields, false), { ok: false, problem }, JSON.stringify(fields));
});

test('trailers: a missing grpc-status is Unknown with the message; the last grpc-status counts', () => {
  assert.deepEqual(judgeTrailers([['grpc-message', 'why']]), { code: 2, message: 'why' });
  assert.deepEqual(judgeTrailers([['grpc-status', '3'], ['grpc-status', '0']]), { code: 0, message: '' });
  assert.deepEqual(judgeTrailers([['grpc-status', '-0']]), { kind: 'malformed-grpc-status', value: '-0', reason: 'invalid syntax' });
});

test('deframer: a message fed one byte at a time; a second one is a violation once it is complete, never kept', () => {
  const first = Buffer.from('first message');
  const second = Buffer.from('second');
  const wire = Buffer.concat([frameMessage(first), frameMessage(second)]);
  const deframer = new MessageDeframer(MAX_MESSAGE_BYTES);
  for (let i = 0; i < frameMessage(first).length - 1; i++) deframer.push(wire.subarray(i, i + 1));
  assert.equal(deframer.messages.length, 0);
  assert.ok(deframer.incompleteBytes > 0);
  deframer.push(wire.subarray(frameMessage(first).length - 1, wire.length - 1));
  assert.deepEqual(deframer.messages, [first]);
  assert.equal(deframer.violation, undefined, 'the second message is not complete yet (grpc-go reads it whole first)');
  deframer.push(wire.subarray(wire.length - 1));
  assert.deepEqual(deframer.violation, { kind: 'cardinality-violation' });
  assert.deepEqual(deframer.messages, [first]);

  // A second message's flag is judged first, as grpc-go's checkRecvPayload does; its length at its header.
  const compressedSecond = new MessageDeframer(MAX_MESSAGE_BYTES);
  compressedSecond.push(Buffer.concat([frameMessage(first), Buffer.from([1, 0, 0, 0, 1, 0x42])]));
  assert.deepEqual(compressedSecond.violation, { kind: 'unasked-compression', encoding: undefined });
  const hugeSecond = new MessageDeframer(MAX_MESSAGE_BYTES);
  hugeSecond.push(Buffer.concat([frameMessage(first), Buffer.from([0, 0, 0x40, 0, 0])]));
  assert.deepEqual(hugeSecond.violation, { kind: 'message-too-large', length: 0x400000, limitBytes: MAX_MESSAGE_BYTES });
});

test('deframer: an empty message is a message', () => {
  const deframer = new MessageDeframer(MAX_MESSAGE_BYTES);
  deframer.push(frameMessage(Buffer.alloc(0)));
  assert.deepEqual(deframer.messages, [Buffer.alloc(0)]);
});

test('deframer: compressed flag, unknown flag, oversized length are violations', () => {
  const compressed = Buffer.from([1, 0, 0, 0, 1, 0x42]);
  const gzip = new MessageDeframer(MAX_MESSAGE_BYTES);
  gzip.responseEncoding = 'gzip';
  gzip.push(compressed);
  assert.deepEqual(gzip.violation, { kind: 'unasked-compression', encoding: 'gzip' });

  const badFlag = new MessageDeframer(MAX_MESSAGE_BYTES);
  badFlag.push(Buffer.from([7, 0, 0, 0, 0]));
  assert.deepEqual(badFlag.violation, { kind: 'invalid-compressed-flag', flag: 7 });

  const huge = Buffer.alloc(5);
  huge.writeUInt32BE(MAX_MESSAGE_BYTES + 1, 1);
  const tooLarge = new MessageDeframer(MAX_MESSAGE_BYTES);
  tooLarge.push(huge);
  assert.deepEqual(tooLarge.violation, { kind: 'message-too-large', length: MAX_MESSAGE_BYTES + 1, limitBytes: MAX_MESSAGE_BYTES });
});

test('deframer: chunks that live in one reused read buffer; what is kept past a push is copied', () => {
  const message = Buffer.from('a message split across three reads');
  const wire = frameMessage(message);
  const readBuffer = Buffer.alloc(64);
  const deframer = new MessageDeframer(MAX_MESSAGE_BYTES);
  for (const [start, end] of [[0, 3], [3, 20], [20, wire.length]]) {
    wire.copy(readBuffer, 0, start, end);
    deframer.push(readBuffer.subarray(0, end - start));
    readBuffer.fill(0xee); // the next read overwrites it
  }
  assert.deepEqual(deframer.messages, [message]);
});

test('binary metadata: base64, padded or not (grpc-go decodeBinHeader); a value that does not decode fails the call', () => {
  for (const value of ['', 'AA', 'AAA', 'AAAA', 'AA==', 'AAA=', 'AAAAAA', 'ab+/', 'YWJj']) assert.equal(isBinaryHeaderValue(value), true, value);
  for (const value of ['A', 'AAAAA', 'A===', '====', 'AA=', 'AA=A', '!!', 'AA AA', 'AAAA====', 'AB-_']) assert.equal(isBinaryHeaderValue(value), false, value);
  assert.deepEqual(judgeTrailers([['grpc-status', '0'], ['x-trace-bin', '!!']]), { kind: 'malformed-binary-header', name: 'x-trace-bin', value: '!!' });
  assert.deepEqual(judgeTrailers([['grpc-status', '0'], ['grpc-status-details-bin', 'A']]), { kind: 'malformed-binary-header', name: 'grpc-status-details-bin', value: 'A' });
  assert.deepEqual(judgeResponseHeaders([[':status', '200'], ['content-type', 'application/grpc'], ['x-bin', 'A']], false), { ok: false, problem: { kind: 'malformed-binary-header', name: 'x-bin', value: 'A' } });
  assert.deepEqual(judgeTrailers([['grpc-status', '0'], ['x-bin', 'AAA']]), { code: 0, message: '' });
});
