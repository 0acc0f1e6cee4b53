// /healthz: the driver's health verdict as upstream's status codes and bodies
// (200 "ok", 500 with the reason); /healthz?verbose adds a report.

import type { DriverHealth } from '../check/driver-health';
import type { MetricsRecorder } from '../metrics/recorder';
import { formatHealthReport } from './healthz-report';
import type { RequestHead } from '../wire/http1/request-head';
import { HttpResponse, textResponse } from '../wire/http1/response';

/** Monitoring systems and proxies must never serve a stale health answer. */
const NO_STORE = { 'Cache-Control': 'no-store' };

export function createHealthzHandler(health: DriverHealth, metrics: MetricsRecorder | undefined) {
  return async (request: RequestHead, clientGone: AbortSignal): Promise<HttpResponse> => {
    const verdict = await health.verdict(clientGone);
    const status = verdict.healthy ? 200 : 500;
    const body = wantsVerbose(request.query) ? formatHealthReport(verdict, health.snapshot()) : verdict.reason;
    metrics?.healthzAnswered(status);
    return textResponse(status, body, NO_STORE);
  };
}

/** "?verbose", "?verbose=1", "?verbose=true" (as the Kubernetes API server's /healthz). */
function wantsVerbose(query: string): boolean {
  if (query === '') return false;
  const verbose = new URLSearchParams(query).get('verbose');
  return verbose !== null && verbose !== '0' && verbose !== 'false';
}
