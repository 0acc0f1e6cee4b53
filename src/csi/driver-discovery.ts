// Start-up: learn the driver's name, waiting for the driver as long as it takes.
//
// A CSI driver often starts after its sidecars, and may crash-loop for a while.
// Giving up would put the sidecar into a crash loop of its own and the driver's
// liveness probe could never succeed, so there is no time limit here (as upstream).

import { Logger } from '../log/logger';
import { CsiCallError } from './csi-call-error';
import { CsiConnection } from './connection';
import { STATUS_UNAVAILABLE } from './grpc-status';
import { getPluginInfo } from './identity';

const STILL_CONNECTING_LOG_INTERVAL_MS = 10_000;
const RETRY_INTERVAL_MS = 1_000;

/**
 * Calls GetPluginInfo until the driver answers. Unavailable (no socket, nobody
 * listening, driver not ready) is retried every second; any other error, or an
 * empty name, is final and thrown.
 */
export async function discoverDriverName(connection: CsiConnection, logger: Logger): Promise<string> {
  const stillConnecting = setInterval(() => {
    logger.warning(`Still connecting to ${connection.address.display}`);
  }, STILL_CONNECTING_LOG_INTERVAL_MS);
  try {
    for (;;) {
      try {
        return (await getPluginInfo(connection)).name;
      } catch (err) {
        if (!(err instanceof CsiCallError && err.grpcCode === STATUS_UNAVAILABLE)) throw err;
        logger.infoAt(4, 'CSI driver not available yet; retrying', { address: connection.address.display, err: err.message });
        await new Promise((resolve) => setTimeout(resolve, RETRY_INTERVAL_MS));
      }
    }
  } finally {
    clearInterval(stillConnecting);
  }
}
