// The Identity calls the sidecar makes and what their answers mean.

import { CsiConnection } from './connection';
import type { CancelSignal } from '../cancel-signal';
import {
  decodeGetPluginInfoResponse,
  decodeProbeResponse,
  EMPTY_REQUEST,
  GET_PLUGIN_INFO_METHOD,
  PluginInfo,
  PROBE_METHOD,
} from './identity-messages';

export class DriverNameError extends Error {
  readonly code = 'ERR_DRIVER_NAME';
}

/**
 * GetPluginInfo once, with no deadline (as upstream's start-up call), until
 * `signal` aborts. Throws DriverNameError when the driver answers with an
 * empty name, CsiCallError when the call fails.
 */
export async function getPluginInfo(connection: CsiConnection, signal: AbortSignal): Promise<PluginInfo> {
  const info = await connection.unaryCall(GET_PLUGIN_INFO_METHOD, EMPTY_REQUEST, decodeGetPluginInfoResponse, { timeoutMs: Infinity, signal });
  if (info.name === '') throw new DriverNameError('driver name is empty');
  return info;
}

/**
 * Probe once within `timeoutMs`, cancelled when `signal` aborts. Resolves true
 * when ready: "If not present, the caller SHALL assume that the plugin is in a
 * ready state" (CSI spec, ProbeResponse.ready). Rejects with CsiCallError.
 */
export async function probe(connection: CsiConnection, timeoutMs: number, signal?: CancelSignal): Promise<boolean> {
  const answer = await connection.unaryCall(PROBE_METHOD, EMPTY_REQUEST, decodeProbeResponse, { timeoutMs, signal });
  return answer.ready ?? true;
}
