// Wire codec for the two csi.v1 Identity calls the sidecar makes (field
// numbers from proto/csi-identity.proto, i.e. the CSI specification), decoded
// as protobuf-go decodes them in the Go sidecar: proto3, the last value of a
// scalar field wins, an embedded message sent more than once is merged,
// fields unknown to the message (or sent with another wire type) are skipped,
// strings must be UTF-8. test/differential/protobuf.ts compares these
// functions with protobuf-go; the unit tests with protobufjs reflection.

import { WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireReader } from '../wire/protobuf/reader';

export const IDENTITY_SERVICE = '/csi.v1.Identity';
export const GET_PLUGIN_INFO_METHOD = `${IDENTITY_SERVICE}/GetPluginInfo`;
export const PROBE_METHOD = `${IDENTITY_SERVICE}/Probe`;

/** Every Identity request is an empty message, which encodes to zero bytes. */
export const EMPTY_REQUEST = Buffer.alloc(0);

/** csi.v1.GetPluginInfoResponse. */
export interface PluginInfo {
  /** Field 1; '' when absent (the caller refuses an empty name, as upstream does). */
  readonly name: string;
  /** Field 2; '' when absent. */
  readonly vendorVersion: string;
  /** Field 3, map<string, string>; for a key sent more than once, the last entry wins. */
  readonly manifest: ReadonlyMap<string, string>;
}

export interface ProbeAnswer {
  /** undefined when the driver left `ready` unset. */
  readonly ready: boolean | undefined;
}

/**
 * Decodes a GetPluginInfoResponse (1 name string, 2 vendor_version string, 3
 * manifest map<string,string>). Throws ProtobufDecodeError on bytes
 * protobuf-go refuses.
 */
export function decodeGetPluginInfoResponse(bytes: Buffer): PluginInfo {
  const reader = new WireReader(bytes);
  let name = '';
  let vendorVersion = '';
  const manifest = new Map<string, string>();
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) name = reader.string('csi.v1.GetPluginInfoResponse.name');
    else if (field === 2 && wireType === WIRE_LENGTH_DELIMITED) vendorVersion = reader.string('csi.v1.GetPluginInfoResponse.vendor_version');
    else if (field === 3 && wireType === WIRE_LENGTH_DELIMITED) readManifestEntry(reader.embedded(), manifest);
    else reader.skip(field, wireType);
  }
  return { name, vendorVersion, manifest };
}

/**
 * One map entry (encoding spec, "Maps": a message of key = 1 and value = 2).
 * A missing key or value is the empty string; a key already in `manifest` is
 * replaced (protobuf-go's Map.Set).
 */
function readManifestEntry(reader: WireReader, manifest: Map<string, string>): void {
  let key = '';
  let value = '';
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) key = reader.string('csi.v1.GetPluginInfoResponse.ManifestEntry.key');
    else if (field === 2 && wireType === WIRE_LENGTH_DELIMITED) value = reader.string('csi.v1.GetPluginInfoResponse.ManifestEntry.value');
    else reader.skip(field, wireType);
  }
  manifest.set(key, value);
}

/**
 * google.protobuf.BoolValue (1 value bool), merged into `value`, the value so
 * far: encoding spec, "Last One Wins": an embedded message that appears again
 * is merged, so a later BoolValue without field 1 keeps the earlier value.
 */
function mergeBoolValue(reader: WireReader, value: boolean): boolean {
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_VARINT) value = reader.bool();
    else reader.skip(field, wireType);
  }
  return value;
}

/**
 * Decodes a ProbeResponse (1 ready google.protobuf.BoolValue). A present
 * `ready` without a value is false; an absent one is undefined (the CSI
 * spec: the caller SHALL assume ready). Throws ProtobufDecodeError on bytes
 * protobuf-go refuses.
 */
export function decodeProbeResponse(bytes: Buffer): ProbeAnswer {
  const reader = new WireReader(bytes);
  let ready: boolean | undefined;
  while (!reader.done) {
    const { field, wireType } = reader.tag();
    if (field === 1 && wireType === WIRE_LENGTH_DELIMITED) ready = mergeBoolValue(reader.embedded(), ready ?? false);
    else reader.skip(field, wireType);
  }
  return { ready };
}
