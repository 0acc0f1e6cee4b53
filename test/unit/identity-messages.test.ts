// The hand-written codec against protobufjs reflection over proto/csi-identity.proto,
// and against protobuf-go's verdicts on the byte sequences of issue #21 (each row's
// expectation is what protobuf-go 1.28 answers; test/differential/protobuf.ts
// compares generated inputs the same way).
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import * as protobuf from 'protobufjs';
import { MAX_GROUP_NESTING, WireReader } from '../../src/wire/protobuf/reader';
import { decodeGetPluginInfoResponse, decodeProbeResponse } from '../../src/csi/identity-messages';

const root = protobuf.loadSync(path.resolve(__dirname, '..', '..', '..', 'proto', 'csi-identity.proto'));
const encode = (type: string, value: object) => {
  const messageType = root.lookupType(type);
  return Buffer.from(messageType.encode(messageType.fromObject(value)).finish());
};
const hex = (text: string) => Buffer.from(text.replace(/ /g, ''), 'hex');

test('ProbeResponse: ready true, false and absent', () => {
  assert.deepEqual(decodeProbeResponse(encode('csi.v1.ProbeResponse', { ready: { value: true } })), { ready: true });
  assert.deepEqual(decodeProbeResponse(encode('csi.v1.ProbeResponse', { ready: { value: false } })), { ready: false });
  assert.deepEqual(decodeProbeResponse(encode('csi.v1.ProbeResponse', {})), { ready: undefined });
  // A present but empty BoolValue is "false", not absent.
  assert.deepEqual(decodeProbeResponse(Buffer.from([0x0a, 0x00])), { ready: false });
});

test('GetPluginInfoResponse: name, vendor_version, manifest; unknown fields skipped', () => {
  const bytes = encode('csi.v1.GetPluginInfoResponse', { name: 'hostpath.csi.k8s.io', vendorVersion: 'v1.15.0', manifest: { a: '1', b: '2' } });
  const unknownField = Buffer.from([0x50, 0x07]); // field 10, varint 7: a newer spec's field
  const info = decodeGetPluginInfoResponse(Buffer.concat([bytes, unknownField]));
  assert.deepEqual(info, { name: 'hostpath.csi.k8s.io', vendorVersion: 'v1.15.0', manifest: new Map([['a', '1'], ['b', '2']]) });
});

type Verdict = 'absent' | 'true' | 'false' | 'error';

/** Issue #21: ProbeResponse bytes and protobuf-go's verdict on each. */
const PROBE_CASES: readonly [string, string, Verdict][] = [
  ['ready sent twice, the second empty: merged (the issue)', '0a02 0801 0a00', 'true'],
  ['ready sent twice, false then true: merged', '0a02 0800 0a02 0801', 'true'],
  ['value sent twice in one BoolValue: the last wins', '0a04 0801 0800', 'false'],
  ['value as a 10-byte varint with bit 63 set: true', '0a0b 08 80808080808080808001', 'true'],
  ['value as a 10-byte varint of zero: false', '0a0b 08 80808080808080808000', 'false'],
  ['value as a 10-byte varint whose last byte is 2: over 64 bits', '0a0b 08 80808080808080808002', 'error'],
  ['value as an 11-byte varint', '0a0c 08 8080808080808080808001', 'error'],
  ['a tag of field 0 after ready', '0a02 0801 0000', 'error'],
  ['a tag of field 0 inside the BoolValue', '0a04 0801 0000', 'error'],
  ['field number 2^29-1, unknown: skipped', 'f8ffffff0f 00', 'absent'],
  ['field number 2^29: above the limit', '8080808010 00', 'error'],
  ['a tag whose field number needs more than 32 bits', '0a02 0801 80808080808080808001 00', 'error'],
  ['an unknown group before ready: skipped', '13 0801 0a0208ff 14 0a02 0801', 'true'],
  ['nested unknown groups: skipped', '13 1b 23 24 1c 14 0a02 0800', 'false'],
  ['an unknown group inside the BoolValue: skipped', '0a06 1b 0801 1c 0801', 'true'],
  ['a field number above 2^29-1 inside a group: accepted, as protobuf-go does', '13 8080808010 00 14', 'absent'],
  ['a field number above 2^31-1 inside a group', '13 8080808080 00 14', 'error'],
  ['a group closed by another field number', '13 1c', 'error'],
  ['a group never closed', '13 0801', 'error'],
  ['an end-group tag with no group open', '0a02 0801 0c', 'error'],
  ['ready sent as a varint: unknown, so absent', '08 01', 'absent'],
  ['ready sent as fixed32: unknown, so absent', '0d 01000000', 'absent'],
  ['ready sent as a group: unknown, so absent', '0b 0801 0c', 'absent'],
  ['wire type 6', '0e 00', 'error'],
  ['wire type 7 inside a group', '13 0f 14', 'error'],
  ['a length past the end', '0a05 08', 'error'],
  ['a length of 2^32 + 1', '12 8180808010', 'error'],
  ['a truncated fixed64', '11 0102', 'error'],
  ['a truncated tag', '80', 'error'],
  ['a truncated varint value', '0a01 08', 'error'],
  ['empty: ready absent', '', 'absent'],
];

test('ProbeResponse: the verdicts of protobuf-go (#21)', () => {
  const wrong: string[] = [];
  for (const [name, bytes, expected] of PROBE_CASES) {
    let verdict: Verdict;
    try {
      const { ready } = decodeProbeResponse(hex(bytes));
      verdict = ready === undefined ? 'absent' : ready ? 'true' : 'false';
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'ERR_PROTOBUF_DECODE', name);
      verdict = 'error';
    }
    if (verdict !== expected) wrong.push(`${name} (${bytes}): ${verdict}, protobuf-go ${expected}`);
  }
  assert.deepEqual(wrong, []);
});

type Info = { name: string; vendorVersion: string; manifest: [string, string][] } | 'error';
const info = (name: string, vendorVersion = '', manifest: [string, string][] = []): Info => ({ name, vendorVersion, manifest });

/** Issue #21: GetPluginInfoResponse bytes and protobuf-go's verdict on each. */
const INFO_CASES: readonly [string, string, Info][] = [
  ['name sent twice: the last wins', '0a0161 0a0162', info('b')],
  ['name as valid multi-byte UTF-8', '0a02c3a9', info('é')],
  ['name not UTF-8', '0a0268ff', 'error'],
  ['name with a UTF-16 surrogate encoded (ED A0 80)', '0a03eda080', 'error'],
  ['name with an overlong encoding (C0 80)', '0a02c080', 'error'],
  ['vendor_version not UTF-8', '0a0161 1201ff', 'error'],
  ['manifest key not UTF-8', '1a03 0a01ff', 'error'],
  ['manifest value not UTF-8', '1a03 1201ff', 'error'],
  ['name sent as a varint: unknown, so empty', '08 05', info('')],
  ['a map entry without value: the empty string', '1a03 0a0161', info('', '', [['a', '']])],
  ['a map entry without key: the empty string', '1a04 12026869', info('', '', [['', 'hi']])],
  ['a map key sent twice: the last entry wins', '1a06 0a0161 120178 1a06 0a0161 120179', info('', '', [['a', 'y']])],
  ['a map entry with its key twice: the last wins', '1a06 0a0161 0a0162', info('', '', [['b', '']])],
  ['a map entry with an unknown field and group: skipped', '1a07 0a0161 1b 0801 1c', info('', '', [['a', '']])],
  ['a map entry key sent as a varint: unknown', '1a02 0801', info('', '', [['', '']])],
  ['a map entry with a tag of field 0', '1a03 0a0161 00', 'error'],
  ['a map entry running past the end', '1a05 0a0161', 'error'],
];

test('GetPluginInfoResponse: the verdicts of protobuf-go (#21)', () => {
  const wrong: string[] = [];
  for (const [name, bytes, expected] of INFO_CASES) {
    let verdict: Info;
    try {
      const decoded = decodeGetPluginInfoResponse(hex(bytes));
      verdict = { name: decoded.name, vendorVersion: decoded.vendorVersion, manifest: [...decoded.manifest] };
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'ERR_PROTOBUF_DECODE', name);
      verdict = 'error';
    }
    if (JSON.stringify(verdict) !== JSON.stringify(expected)) wrong.push(`${name} (${bytes}): ${JSON.stringify(verdict)}, protobuf-go ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(wrong, []);
});

test('errors name the rule, the field and the byte', () => {
  assert.throws(() => decodeGetPluginInfoResponse(hex('0a0161 1202 68ff')), {
    message: 'proto: field csi.v1.GetPluginInfoResponse.vendor_version contains invalid UTF-8 (the 2 bytes at byte 5)',
  });
  assert.throws(() => decodeProbeResponse(hex('0a05 08')), { message: 'proto: cannot parse invalid wire-format data: length 5 exceeds the 1 bytes left at byte 1' });
  assert.throws(() => decodeProbeResponse(hex('13 1c')), {
    message: 'proto: cannot parse invalid wire-format data: end-group tag of field 3 closes the group of field 2 at byte 1',
  });
  assert.throws(() => decodeProbeResponse(hex('12 ffffffffffffffffff01')), {
    message: 'proto: cannot parse invalid wire-format data: length 18446744073709551615 exceeds the 0 bytes left at byte 1',
  });
});

test(`groups nest up to ${MAX_GROUP_NESTING} deep, as in protobuf-go`, () => {
  const nested = (depth: number) => Buffer.concat([Buffer.alloc(depth, 0x13), Buffer.alloc(depth, 0x14)]);
  assert.deepEqual(decodeProbeResponse(nested(MAX_GROUP_NESTING)), { ready: undefined });
  assert.throws(() => decodeProbeResponse(nested(MAX_GROUP_NESTING + 1)), /groups nested deeper than 10001/);
});

test('wire reader: exact 64-bit varints', () => {
  const reader = new WireReader(hex('ac02 ffffffff0f ffffffffffffffffff01 8080808080808080 8001'));
  assert.equal(reader.varint(), 300n);
  assert.equal(reader.varint(), 2n ** 32n - 1n);
  assert.equal(reader.varint(), 2n ** 64n - 1n);
  assert.equal(reader.varint(), 2n ** 63n);
  assert.equal(reader.done, true);
  // field 2 fixed64, field 3 fixed32, field 4 length 2, then field 1 = ready true in a ProbeResponse
  const skipped = hex('11 0102030405060708 1d 01020304 22 02 aabb 0a02 0801');
  assert.deepEqual(decodeProbeResponse(skipped), { ready: true });
  assert.throws(() => new WireReader(hex('8080')).varint(), { message: 'proto: cannot parse invalid wire-format data: truncated varint at byte 0' });
});
