// The metrics path: the registry's text exposition, for any method (as Go's promhttp).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SidecarMetrics } from '../metrics/sidecar-metrics';

export function createMetricsHandler(metrics: SidecarMetrics) {
  return async (_request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const { contentType, body } = await metrics.exposition();
    if (response.destroyed) return;
    response.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
    response.end(body);
  };
}
