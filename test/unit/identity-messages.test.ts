// The hand-written codec against protobufjs reflection over proto/csi-identity.proto.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import * as protobuf from 'protobufjs';
import { WireReader } from '../../src/wire/protobuf/reader';
import { decodeGetPluginInfoResponse, decodeProbeResponse } from '../../src/csi/identity-messages';

const root = protobuf.loadSync(path.resolve(__dirname, '..', '..', '..', 'proto', 'csi-identity.proto'));
const encode = (type: string, value: object) => {
  const messageType = root.lookupType(type);
  return Buffer.from(messageType.encode(messageType.fromObject(value)).finish());
};

test('ProbeResponse: ready true, false and absent', () => {
  assert.deepEqual(decodeProbeResponse(encode('csi.v1.ProbeResponse', { ready: { value: true } })), { ready: true });
  assert.deepEqual(decodeProbeResponse(encode('csi.v1.ProbeResponse', { ready: { value: false } })), { ready: false });
  assert.deepEqual(decodeProbeResponse(encode('csi.v1.ProbeResponse', {})), { ready: undefined });
  // A present but empty BoolValue is "false", not absent.
  assert.deepEqual(decodeProbeResponse(Buffer.from([0x0a, 0x00])), { ready: false });
});

test('GetPluginInfoResponse: the name; version, manifest and unknown fields skipped', () => {
  const bytes = encode('csi.v1.GetPluginInfoResponse', { name: 'hostpath.csi.k8s.io', vendorVersion: 'v1.15.0', manifest: { a: '1', b: '2' } });
  const unknownField = Buffer.from([0x50, 0x07]); // field 10, varint 7: a newer spec's field
  const info = decodeGetPluginInfoResponse(Buffer.concat([bytes, unknownField]));
  assert.deepEqual(info, { name: 'hostpath.csi.k8s.io' });
});

test('truncated bytes throw instead of returning a wrong answer', () => {
  assert.throws(() => decodeProbeResponse(Buffer.from([0x0a, 0x05, 0x08])));
});

test('wire reader: multi-byte varints, skips every wire type, refuses what runs past the end', () => {
  const reader = new WireReader(Buffer.from([0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f]));
  assert.equal(reader.varint(), 300);
  assert.equal(reader.varint(), 2 ** 32 - 1);
  assert.equal(reader.done, true);
  // field 2 fixed64, field 3 fixed32, field 4 length 2, then field 1 = ready true in a ProbeResponse
  const skipped = Buffer.from([0x11, 1, 2, 3, 4, 5, 6, 7, 8, 0x1d, 1, 2, 3, 4, 0x22, 0x02, 0xaa, 0xbb, 0x0a, 0x02, 0x08, 0x01]);
  assert.deepEqual(decodeProbeResponse(skipped), { ready: true });
  assert.throws(() => decodeProbeResponse(Buffer.from([0x0a, 0x05, 0x08])), { code: 'ERR_PROTOBUF_DECODE' });
  assert.throws(() => decodeProbeResponse(Buffer.from([0x11, 1, 2])), { code: 'ERR_PROTOBUF_DECODE' });
  assert.throws(() => decodeProbeResponse(Buffer.from([0x0b])), { message: 'unsupported wire type 3' });
  assert.throws(() => new WireReader(Buffer.from([0x80, 0x80])).varint(), { message: 'truncated varint' });
});
