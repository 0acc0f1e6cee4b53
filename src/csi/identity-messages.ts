// Wire codec for the two csi.v1 Identity calls the sidecar makes
// (field numbers from proto/csi-identity.proto, i.e. the CSI specification).
// The test suite checks it against protobufjs reflection over that file.

import { WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireReader } from './protobuf-reader';

export const IDENTITY_SERVICE = '/csi.v1.Identity';
export const GET_PLUGIN_INFO_METHOD = `${IDENTITY_SERVICE}/GetPluginInfo`;
export const PROBE_METHOD = `${IDENTITY_SERVICE}/Probe`;

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

/** A map<string,string> entry: key = 1, value = 2. */
function decodeManifestEntry(reader: WireReader): [string, string] {
  let key = '';
  let value = '';
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) key = reader.string();
    else if (field === 2 && wireType === WIRE_LENGTH_DELIMITED) value = reader.string();
    else reader.skip(wireType);
  }
  return [key, value];
}

export function decodeGetPluginInfoResponse(bytes: Buffer): PluginInfo {
  const reader = new WireReader(bytes);
  let name = '';
  let vendorVersion = '';
  const manifest = new Map<string, string>();
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) name = reader.string();
    else if (field === 2 && wireType === WIRE_LENGTH_DELIMITED) vendorVersion = reader.string();
    else if (field === 3 && wireType === WIRE_LENGTH_DELIMITED) manifest.set(...decodeManifestEntry(reader.embedded()));
    else reader.skip(wireType);
  }
  return { name, vendorVersion, manifest };
}

/** google.protobuf.BoolValue: field 1, bool. An empty BoolValue is present and false. */
function decodeBoolValue(reader: WireReader): boolean {
  let value = false;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_VARINT) value = reader.bool();
    else reader.skip(wireType);
  }
  return value;
}

export function decodeProbeResponse(bytes: Buffer): ProbeAnswer {
  const reader = new WireReader(bytes);
  let ready: boolean | undefined;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) ready = decodeBoolValue(reader.embedded());
    else reader.skip(wireType);
  }
  return { ready };
}
