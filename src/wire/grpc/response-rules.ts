// The rules a gRPC client applies to the HEADERS of a response (grpc/grpc
// doc/PROTOCOL-HTTP2.md, "Responses"), decided as grpc-go decides them
// (internal/transport/http2_client.go, operateHeaders; http_util.go), which
// the Go sidecar this project replaces was built on:
//
//   Response → (Response-Headers *Length-Prefixed-Message Trailers) / Trailers-Only
//   Response-Headers → HTTP-Status [Message-Encoding] ... Content-Type *Custom-Metadata
//   Trailers-Only → HTTP-Status Content-Type Trailers
//   Trailers → Status [Status-Message] *Custom-Metadata
//
// - The first HEADERS must say `:status: 200` and a gRPC content-type
//   (application/grpc, or application/grpc followed by "+" or ";"); else the
//   call fails with the status http-grpc-status-mapping.md gives the HTTP
//   status (Internal when there is none).
// - grpc-status counts only where it ends the stream: in trailers, or in a
//   Trailers-Only first HEADERS (END_STREAM). A missing one there is Unknown.
//   A malformed one anywhere fails the call (Internal).
// - grpc-message is percent-encoded UTF-8.
// - Binary metadata ("Binary-Header → {Header-Name "-bin"} {base64 encoded value}")
//   must be base64, or the call fails (Internal), as today's grpc-go fails it.
//
// Which HEADERS are trailers, and that trailers end the stream, is the HTTP/2
// client's business (RFC 9113 section 8.1); this file judges field lists.
// Hand-written for the reason message-framing.ts gives.

import { isThreeDigits } from '../http-semantics/field-chars';
import type { HeaderField } from '../hpack/decoder';
import type { GrpcWireProblem } from './wire-error';

/** A gRPC status read from the wire: a code (0 is OK) and its decoded grpc-message. */
export interface GrpcStatus {
  readonly code: number;
  readonly message: string;
}

/** The status grpc-go reports for trailers that carry no grpc-status (codes.Unknown). */
const STATUS_UNKNOWN = 2;
/** grpc-go reads grpc-status as strconv.ParseUint(value, 10, 32). */
const MAX_GRPC_STATUS = 2 ** 32 - 1;

/** What the response headers (the first HEADERS) say. */
export type ResponseHeadersVerdict =
  | { readonly ok: true; readonly encoding: string | undefined; readonly status: GrpcStatus | undefined }
  | { readonly ok: false; readonly problem: GrpcWireProblem };

/**
 * "Content-Type → "content-type" "application/grpc" [("+proto" / "+json" / {custom})]";
 * grpc-go also takes "application/grpc;..." (parameters). Case-sensitive, as grpc-go's
 * grpcutil.ContentSubtype.
 */
export function isGrpcContentType(value: string): boolean {
  const base = 'application/grpc';
  if (!value.startsWith(base)) return false;
  return value.length === base.length || value[base.length] === '+' || value[base.length] === ';';
}

/** grpc-status: "Status → "grpc-status" 1*DIGIT", at most 2^32-1; else a malformed-grpc-status problem. */
export function parseGrpcStatusCode(value: string): number | GrpcWireProblem {
  if (value.length === 1 && value >= '0' && value <= '9') return value.charCodeAt(0) - 0x30; // the usual one digit, without a regex
  if (!/^[0-9]+$/.test(value)) return { kind: 'malformed-grpc-status', value, reason: 'invalid syntax' };
  // Leading zeros are digits too ("007" is 7); the length test keeps the number exact before the range test.
  const digits = value.replace(/^0+(?=.)/, '');
  if (digits.length > 10 || Number(digits) > MAX_GRPC_STATUS) return { kind: 'malformed-grpc-status', value, reason: 'value out of range' };
  return Number(digits);
}

/**
 * grpc-message: "Status-Message → "grpc-message" Percent-Encoded", the
 * percent-encoding of UTF-8 text. `value` is the field as received, one
 * character per byte (latin1, as the HPACK decoder gives it). Each "%XX" with
 * two hex digits becomes that byte; any other "%" is kept as it is ("When
 * decoding invalid values, implementations MUST NOT error"); bytes outside
 * the percent-encoding's range are taken as they are, as grpc-go does. The
 * bytes are then read as UTF-8 (an invalid sequence becomes U+FFFD).
 */
export function decodeGrpcMessage(value: string): string {
  if (!NEEDS_DECODING.test(value)) return value; // ASCII without escapes reads the same as UTF-8 (grpc-js sends "" on every OK)
  const bytes = Buffer.from(value, 'latin1');
  if (!bytes.includes(0x25)) return bytes.toString('utf8');
  const decoded = Buffer.allocUnsafe(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    const high = hexValue(bytes[i + 1]);
    const low = hexValue(bytes[i + 2]);
    if (bytes[i] === 0x25 && high >= 0 && low >= 0) {
      decoded[length++] = high * 16 + low;
      i += 2;
    } else {
      decoded[length++] = bytes[i];
    }
  }
  return decoded.toString('utf8', 0, length);
}

/** A percent-escape, or a byte past ASCII that UTF-8 reads as part of a sequence. */
const NEEDS_DECODING = /[%\x80-\xff]/;

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
}

/**
 * Base64 as grpc-go's decodeBinHeader reads it: padded when the length is a
 * multiple of 4, unpadded otherwise ("Implementations MUST accept padded and
 * un-padded values", PROTOCOL-HTTP2.md).
 */
const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UNPADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*[A-Za-z0-9+/]{2,3}$/;

/** Whether a binary metadata value decodes. */
export function isBinaryHeaderValue(value: string): boolean {
  return value.length % 4 === 0 ? PADDED_BASE64.test(value) : UNPADDED_BASE64.test(value);
}

/** The first binary metadata field ("-bin") whose value does not decode, as a problem; undefined when all do. */
function binaryHeaderProblem(fields: readonly HeaderField[]): GrpcWireProblem | undefined {
  for (const [name, value] of fields) {
    if (name.endsWith('-bin') && !isBinaryHeaderValue(value)) return { kind: 'malformed-binary-header', name, value };
  }
  return undefined;
}

/** Reads grpc-status (the last one, as grpc-go) and grpc-message; a missing grpc-status is Unknown. */
function readStatus(fields: readonly HeaderField[]): GrpcStatus | GrpcWireProblem {
  let code = STATUS_UNKNOWN;
  let message = '';
  for (const [name, value] of fields) {
    if (name === 'grpc-status') {
      const parsed = parseGrpcStatusCode(value);
      if (typeof parsed !== 'number') return parsed;
      code = parsed;
    } else if (name === 'grpc-message') {
      message = decodeGrpcMessage(value);
    }
  }
  return { code, message };
}

/**
 * Judges the first HEADERS of a response (`endStream`: it also ends the
 * stream, a Trailers-Only answer, whose status it then carries). The fields
 * are in wire order; the HTTP/2 client has checked them (RFC 9113 section
 * 8.2 and 8.3) and skipped informational (1xx) answers.
 */
export function judgeResponseHeaders(fields: readonly HeaderField[], endStream: boolean): ResponseHeadersVerdict {
  let httpStatusField: string | undefined;
  let grpcContentType = false;
  let contentType: string | null = null;
  let encoding: string | undefined;
  for (const [name, value] of fields) {
    if (name === ':status') httpStatusField = value;
    else if (name === 'grpc-encoding') encoding = value;
    else if (name === 'content-type') {
      // grpc-go: any gRPC content-type makes the answer gRPC; the last other one is named.
      if (isGrpcContentType(value)) grpcContentType = true;
      else contentType = value;
    }
  }
  const statusOrProblem = readStatus(fields); // grpc-go fails a malformed grpc-status even in response headers
  if (!('code' in statusOrProblem)) return { ok: false, problem: statusOrProblem };
  let httpStatus: number | undefined;
  if (httpStatusField !== undefined) {
    // RFC 9110 section 15: status-code = 3DIGIT.
    if (httpStatusField !== '200' && !isThreeDigits(httpStatusField)) return { ok: false, problem: { kind: 'malformed-http-status', value: httpStatusField } };
    httpStatus = Number(httpStatusField);
  }
  if (httpStatus !== 200 || !grpcContentType) {
    return { ok: false, problem: { kind: 'not-a-grpc-response', httpStatus, contentType: grpcContentType ? undefined : contentType } };
  }
  const binaryProblem = binaryHeaderProblem(fields);
  if (binaryProblem) return { ok: false, problem: binaryProblem };
  return { ok: true, encoding, status: endStream ? statusOrProblem : undefined };
}

/** Judges trailers (the HEADERS that end a stream after the response headers): their status. */
export function judgeTrailers(fields: readonly HeaderField[]): GrpcStatus | GrpcWireProblem {
  const status = readStatus(fields);
  return 'kind' in status ? status : (binaryHeaderProblem(fields) ?? status);
}

/** Whether `x` is a problem rather than a status. */
export function isWireProblem(x: GrpcStatus | GrpcWireProblem): x is GrpcWireProblem {
  return 'kind' in x;
}
