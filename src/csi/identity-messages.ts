// Wire codec for the two csi.v1 Identity calls the sidecar makes
// (field numbers from proto/csi-identity.proto, i.e. the CSI specification).
//
// Decoded with protobufjs's minimal Reader instead of loading the .proto at
// run time: the sidecar needs two small messages, and reflection-based loading
// costs several megabytes of memory in every pod.

import { Reader } from 'protobufjs/minimal';

export const IDENTITY_SERVICE = '/csi.v1.Identity';
export const GET_PLUGIN_INFO_METHOD = `${IDENTITY_SERVICE}/GetPluginInfo`;
export const PROBE_METHOD = `${IDENTITY_SERVICE}/Probe`;

const WIRE_TYPE_VARINT = 0;
const WIRE_TYPE_LENGTH_DELIMITED = 2;

/** Every Identity request is an empty message, which encodes to zero bytes. */
export const EMPTY_REQUEST = Buffer.alloc(0);

export interface PluginInfo {
  readonly name: string;
  readonly vendorVersion: string;
  readonly manifest: ReadonlyMap<string, string>;
}

export interface ProbeAnswer {
  /** undefined when the driver left `ready` unset. */
  readonly ready: boolean | undefined;
}

function decodeManifestEntry(reader: Reader, end: number): [string, string] {
  let key = '';
  let value = '';
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_TYPE_LENGTH_DELIMITED) key = reader.string();
    else if (tag >>> 3 === 2 && (tag & 7) === WIRE_TYPE_LENGTH_DELIMITED) value = reader.string();
    else reader.skipType(tag & 7);
  }
  return [key, value];
}

export function decodeGetPluginInfoResponse(bytes: Buffer): PluginInfo {
  const reader = Reader.create(bytes);
  let name = '';
  let vendorVersion = '';
  const manifest = new Map<string, string>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 1 && wireType === WIRE_TYPE_LENGTH_DELIMITED) name = reader.string();
    else if (field === 2 && wireType === WIRE_TYPE_LENGTH_DELIMITED) vendorVersion = reader.string();
    else if (field === 3 && wireType === WIRE_TYPE_LENGTH_DELIMITED) {
      const length = reader.uint32();
      const [key, value] = decodeManifestEntry(reader, reader.pos + length);
      manifest.set(key, value);
    } else reader.skipType(wireType);
  }
  return { name, vendorVersion, manifest };
}

/** google.protobuf.BoolValue: field 1, bool. An empty BoolValue is present and false. */
function decodeBoolValue(reader: Reader, end: number): boolean {
  let value = false;
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_TYPE_VARINT) value = reader.bool();
    else reader.skipType(tag & 7);
  }
  return value;
}

export function decodeProbeResponse(bytes: Buffer): ProbeAnswer {
  const reader = Reader.create(bytes);
  let ready: boolean | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_TYPE_LENGTH_DELIMITED) {
      const length = reader.uint32();
      ready = decodeBoolValue(reader, reader.pos + length);
    } else reader.skipType(tag & 7);
  }
  return { ready };
}
