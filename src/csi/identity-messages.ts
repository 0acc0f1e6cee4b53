// Wire codec for the two csi.v1 Identity calls the sidecar makes
// (field numbers from proto/csi-identity.proto, i.e. the CSI specification).
// The test suite checks it against protobufjs reflection over that file.

import { WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireReader } from '../wire/protobuf/reader';

export const IDENTITY_SERVICE = '/csi.v1.Identity';
export const GET_PLUGIN_INFO_METHOD = `${IDENTITY_SERVICE}/GetPluginInfo`;
export const PROBE_METHOD = `${IDENTITY_SERVICE}/Probe`;

/** Every Identity request is an empty message, which encodes to zero bytes. */
export const EMPTY_REQUEST = Buffer.alloc(0);

export interface PluginInfo {
  readonly name: string;
}

export interface ProbeAnswer {
  /** undefined when the driver left `ready` unset. */
  readonly ready: boolean | undefined;
}

/** GetPluginInfoResponse: the sidecar needs only `name` (field 1); vendor_version and manifest are skipped. */
export function decodeGetPluginInfoResponse(bytes: Buffer): PluginInfo {
  const reader = new WireReader(bytes);
  let name = '';
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) name = reader.string();
    else reader.skip(wireType);
  }
  return { name };
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
