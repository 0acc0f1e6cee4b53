// The statuses and metric labels call-failures.ts chooses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CsiAddress } from '../../src/csi/address';
import { connectFailed, grpcWireFailure, metricStatusOf, NON_GRPC_STATUS, resetByDriver, socketFileUnusable, undecodableAnswer } from '../../src/csi/call-failures';
import { ProtobufDecodeError } from '../../src/wire/protobuf/reader';

const ADDRESS: CsiAddress = { original: '/csi/csi.sock', socketPath: '/csi/csi.sock', display: 'unix:///csi/csi.sock', tcp: undefined };

const notGrpc = (httpStatus: number | undefined, contentType: string | null | undefined = undefined) => grpcWireFailure({ kind: 'not-a-grpc-response', httpStatus, contentType });

test('HTTP status and RST_STREAM codes map as grpc-go maps them (HTTPStatusConvTab, http2ErrConvTab)', () => {
  const http: readonly [number, number][] = [[400, 13], [401, 16], [403, 7], [404, 12], [429, 14], [502, 14], [503, 14], [504, 14], [500, 2], [302, 2], [200, 2]];
  for (const [status, code] of http) assert.equal(notGrpc(status).grpcCode, code, String(status));
  assert.equal(notGrpc(404).message, 'rpc error: code = Unimplemented desc = unexpected HTTP status code received from server: 404 (Not Found)');
  assert.equal(notGrpc(299).message, 'rpc error: code = Unknown desc = unexpected HTTP status code received from server: 299 ()');
  assert.equal(notGrpc(undefined).message, 'rpc error: code = Internal desc = malformed header: missing HTTP status');
  assert.equal(notGrpc(200, null).message, 'rpc error: code = Unknown desc = malformed header: missing HTTP content-type');
  assert.equal(
    notGrpc(503, 'text/html').message,
    'rpc error: code = Unavailable desc = unexpected HTTP status code received from server: 503 (Service Unavailable); transport: received unexpected content-type "text/html"',
  );
  assert.equal(resetByDriver(7).message, 'rpc error: code = Unavailable desc = stream terminated by RST_STREAM with error code: REFUSED_STREAM');
  // Codes grpc-go's table lacks are Unknown, named as Go's http2.ErrCode.String() names them.
  const rstCodes: readonly [number, number][] = [[8, 1], [11, 8], [12, 7], [2, 13], [3, 8], [0x77, 2]];
  for (const [rstCode, code] of rstCodes) assert.equal(resetByDriver(rstCode).grpcCode, code, String(rstCode));
  assert.equal(resetByDriver(0x77).description, 'stream terminated by RST_STREAM with error code: unknown error code 0x77');
});

test('metric label: the gRPC code name, unknown-non-grpc when gRPC was never asked', () => {
  assert.equal(metricStatusOf(connectFailed(ADDRESS, 'ECONNREFUSED')), 'Unavailable');
  assert.equal(metricStatusOf(socketFileUnusable(ADDRESS, 'ENOENT')), NON_GRPC_STATUS);
  assert.equal(metricStatusOf(new Error('not a call failure')), NON_GRPC_STATUS);
  assert.equal(metricStatusOf(resetByDriver(99)), 'Unknown');
});

test('an undecodable answer is Internal, in grpc-go words, with the decoder reason', () => {
  const failure = undecodableAnswer(new ProtobufDecodeError('proto: cannot parse invalid wire-format data: truncated varint at byte 3'));
  assert.equal(
    failure.message,
    'rpc error: code = Internal desc = grpc: failed to unmarshal the received message: proto: cannot parse invalid wire-format data: truncated varint at byte 3',
  );
  assert.equal(metricStatusOf(failure), 'Internal');
});
