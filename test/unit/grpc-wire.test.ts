import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CARDINALITY_VIOLATION_TEXT } from '../../src/csi/call-failures';
import { decodeGrpcMessage, formatGrpcTimeout, frameMessage, MAX_RECEIVE_MESSAGE_BYTES, MessageDeframer } from '../../src/csi/grpc-wire';
import { STATUS_INTERNAL } from '../../src/wire/grpc/status';

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
  ];
  for (const [encoded, decoded] of cases) assert.equal(decodeGrpcMessage(encoded), decoded, encoded);
});

test('deframer: a message fed one byte at a time; a second one, even in the same chunk, is a violation at once', () => {
  const first = Buffer.from('first message');
  const second = Buffer.from('second');
  const wire = Buffer.concat([frameMessage(first), frameMessage(second)]);
  const deframer = new MessageDeframer();
  for (let i = 0; i < frameMessage(first).length - 1; i++) deframer.push(wire.subarray(i, i + 1));
  assert.equal(deframer.messages.length, 0);
  assert.ok(deframer.incompleteBytes > 0);
  deframer.push(wire.subarray(frameMessage(first).length - 1));
  assert.deepEqual(deframer.messages, [first]);
  assert.equal(deframer.violation?.grpcCode, STATUS_INTERNAL);
  assert.equal(deframer.violation?.description, CARDINALITY_VIOLATION_TEXT);
  assert.equal(deframer.incompleteBytes, 0);

  const later = new MessageDeframer();
  later.push(frameMessage(first));
  assert.equal(later.violation === undefined, true);
  later.push(Buffer.from([0])); // one byte of anything after the message
  assert.equal(later.violation?.grpcCode, STATUS_INTERNAL);
  assert.equal(later.violation?.description, CARDINALITY_VIOLATION_TEXT);
  assert.deepEqual(later.messages, [first]);
});

test('deframer: an empty message is a message', () => {
  const deframer = new MessageDeframer();
  deframer.push(frameMessage(Buffer.alloc(0)));
  assert.deepEqual(deframer.messages, [Buffer.alloc(0)]);
});

test('deframer: compressed flag, unknown flag, oversized length are violations', () => {
  const compressed = Buffer.from([1, 0, 0, 0, 1, 0x42]);
  const gzip = new MessageDeframer();
  gzip.responseEncoding = 'gzip';
  gzip.push(compressed);
  assert.equal(gzip.violation?.grpcCode, 13);
  assert.match(gzip.violation!.description, /compressed message \(grpc-encoding "gzip"\)/);

  const badFlag = new MessageDeframer();
  badFlag.push(Buffer.from([7, 0, 0, 0, 0]));
  assert.equal(badFlag.violation?.grpcCode, 13);

  const huge = Buffer.alloc(5);
  huge.writeUInt32BE(MAX_RECEIVE_MESSAGE_BYTES + 1, 1);
  const tooLarge = new MessageDeframer();
  tooLarge.push(huge);
  assert.equal(tooLarge.violation?.grpcCode, 8);
  assert.equal(tooLarge.violation?.description, `grpc: received message larger than max (${MAX_RECEIVE_MESSAGE_BYTES + 1} vs. ${MAX_RECEIVE_MESSAGE_BYTES})`);
});

test('deframer: chunks that live in one reused read buffer; what is kept past a push is copied', () => {
  const message = Buffer.from('a message split across three reads');
  const wire = frameMessage(message);
  const readBuffer = Buffer.alloc(64);
  const deframer = new MessageDeframer();
  for (const [start, end] of [[0, 3], [3, 20], [20, wire.length]]) {
    wire.copy(readBuffer, 0, start, end);
    deframer.push(readBuffer.subarray(0, end - start));
    readBuffer.fill(0xee); // the next read overwrites it
  }
  assert.deepEqual(deframer.messages, [message]);
});
