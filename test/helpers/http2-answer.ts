// Builds the frames of a scripted HTTP/2 answer for the raw servers of the
// tests (raw-http2-server.ts, the grpc-verdict differential target): header
// blocks from field lists (HPACK literals without indexing, raw strings; the
// values' characters are bytes, so raw UTF-8 can be sent as latin1 text),
// DATA, WINDOW_UPDATE, RST_STREAM, GOAWAY, PING, SETTINGS.

import { encodeHeaderBlock, headerBlockBytes } from '../../src/wire/hpack/encoder';
import { rawFrame } from './raw-http2-server';

export const FRAME = { DATA: 0x0, HEADERS: 0x1, PRIORITY: 0x2, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;

/** An HPACK block of `fields` (literal without indexing, raw strings; each character one byte). */
export function headerBlock(fields: readonly (readonly [string, string])[]): Buffer {
  const block = Buffer.alloc(headerBlockBytes(fields));
  return block.subarray(0, encodeHeaderBlock(fields, block, 0));
}

/** A HEADERS frame with END_HEADERS, and END_STREAM when `endStream`. */
export function headersFrame(streamId: number, fields: readonly (readonly [string, string])[], endStream = false): Buffer {
  return rawFrame(FRAME.HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), streamId, headerBlock(fields));
}

export function dataFrame(streamId: number, payload: Buffer, endStream = false): Buffer {
  return rawFrame(FRAME.DATA, endStream ? END_STREAM : 0, streamId, payload);
}

function u32(...values: number[]): Buffer {
  const payload = Buffer.alloc(4 * values.length);
  values.forEach((value, index) => payload.writeUInt32BE(value >>> 0, 4 * index));
  return payload;
}

export const windowUpdateFrame = (streamId: number, increment: number) => rawFrame(FRAME.WINDOW_UPDATE, 0, streamId, u32(increment));
export const rstStreamFrame = (streamId: number, errorCode: number) => rawFrame(FRAME.RST_STREAM, 0, streamId, u32(errorCode));
export const goawayFrame = (lastStreamId: number, errorCode: number) => rawFrame(FRAME.GOAWAY, 0, 0, u32(lastStreamId, errorCode));
export const pingFrame = (ack = false) => rawFrame(FRAME.PING, ack ? 0x1 : 0, 0, Buffer.alloc(8));

/** The 5-byte gRPC message header and the message. */
export function grpcMessageFrame(message: Buffer, compressedFlag = 0, announcedLength = message.length): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(compressedFlag, 0);
  header.writeUInt32BE(announcedLength >>> 0, 1);
  return Buffer.concat([header, message]);
}
