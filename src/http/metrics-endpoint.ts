// The metrics path: the registry's text exposition, for any method (as Go's promhttp).

import type { SidecarMetrics } from '../metrics/sidecar-metrics';
import type { HttpResponse } from '../wire/http1/response';

export function createMetricsHandler(metrics: SidecarMetrics) {
  return async (): Promise<HttpResponse> => {
    const { contentType, body } = await metrics.exposition();
    return { status: 200, body, headers: { 'Content-Type': contentType } };
  };
}
