// The HTTP/2 frame reader of the hand-written client: frames split anywhere
// across reads of one reused buffer, and the frame size bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeFrame, Frame, FrameReader } from '../../src/wire/http2/frames';

/** Pushes `chunk`, then hands on each frame next() returns, as the session does. */
function readFrames(reader: FrameReader, chunk: Buffer, onFrame: (frame: Frame) => void): void {
  reader.push(chunk);
  for (let frame = reader.next(); frame !== undefined; frame = reader.next()) onFrame(frame);
}

test('frames split anywhere across reads of one reused buffer arrive whole and unchanged', () => {
  const sent = [encodeFrame(0x4, 0, 0), encodeFrame(0x1, 0x4, 1, Buffer.from([0x88])), encodeFrame(0x0, 0x1, 1, Buffer.alloc(3000, 7))];
  const wire = Buffer.concat(sent);
  const readBuffer = Buffer.alloc(wire.length);
  for (const step of [1, 5, 9, 10, 1000, wire.length]) {
    const reader = new FrameReader();
    const received: Buffer[] = [];
    for (let start = 0; start < wire.length; start += step) {
      const end = Math.min(wire.length, start + step);
      wire.copy(readBuffer, 0, start, end);
      // A payload is valid until the next push(): copy it, as a consumer that keeps it must.
      readFrames(reader, readBuffer.subarray(0, end - start), (frame) => received.push(encodeFrame(frame.type, frame.flags, frame.streamId, Buffer.from(frame.payload))));
      readBuffer.fill(0xee);
    }
    assert.deepEqual(received, sent, `reads of ${step} bytes`);
  }
});

test('a frame announcing more than 16 KiB is a FRAME_SIZE_ERROR before its payload is read', () => {
  const header = encodeFrame(0x0, 0, 1).subarray(0, 9);
  header.writeUIntBE(16_385, 0, 3);
  assert.throws(() => readFrames(new FrameReader(), header, () => assert.fail('no frame before the oversized one')), { errorCode: 0x6, message: 'the driver sent a 16385-byte frame; at most 16384 were allowed' });
});

test('issue #21: the frames before an oversized one in the same read are handed on first', () => {
  const oversized = encodeFrame(0x0, 0, 1).subarray(0, 9);
  oversized.writeUIntBE(16_385, 0, 3);
  const before = encodeFrame(0x1, 0x4, 1, Buffer.from([0x88]));
  const seen: number[] = [];
  assert.throws(() => {
    readFrames(new FrameReader(), Buffer.concat([before, oversized]), (frame) => seen.push(frame.type));
  }, { errorCode: 0x6 });
  assert.deepEqual(seen, [0x1]);
});
