// /healthz and /readyz: the driver's verdicts as status codes and bodies (200
// "ok", 500 with the reason); ?verbose adds a report. /healthz is upstream's
// liveness answer (with the opt-in --not-ready-grace); /readyz is the CSI
// spec's readiness, which upstream does not serve. Both run the same shared
// check under the same rules: a Probe one route started may answer the other.

import type { DriverHealth, HealthQuestion } from '../check/driver-health';
import type { MetricsRecorder } from '../metrics/recorder';
import { formatHealthReport } from './healthz-report';
import type { RequestHead } from '../wire/http1/request-head';
import type { RequestConditions } from './serve-mux';
import { HttpResponse, textResponse } from '../wire/http1/response';
import type { CancelSignal } from '../cancel-signal';

/** The liveness route, as upstream. */
export const HEALTHZ_PATH = '/healthz';
/** The readiness route, named as the Kubernetes API server names its own (/livez, /readyz). */
export const READYZ_PATH = '/readyz';

/** Monitoring systems and proxies must never serve a stale health answer. */
const NO_STORE = { 'Cache-Control': 'no-store' };

/**
 * While the connection budget is half full or more, a connection's first request is
 * answered from a check that finished less than this long ago instead of
 * waiting for a Probe, so that it gives its descriptor back at once and the
 * next connection, perhaps the kubelet's, finds room (connection-budget.ts).
 * The kubelet's smallest periodSeconds: such an answer is never older than
 * the interval between two probes of one probe worker.
 */
export const RECENT_VERDICT_MAX_AGE_MS = 1_000;

/** The handler of /healthz: liveness. */
export function createHealthzHandler(health: DriverHealth, metrics: MetricsRecorder | undefined) {
  return createVerdictHandler(health, 'liveness', (status) => metrics?.healthzAnswered(status));
}

/** The handler of /readyz: readiness (200 only for a driver that answered ready). */
export function createReadyzHandler(health: DriverHealth, metrics: MetricsRecorder | undefined) {
  return createVerdictHandler(health, 'readiness', (status) => metrics?.readyzAnswered(status));
}

function createVerdictHandler(health: DriverHealth, question: HealthQuestion, answered: (status: number) => void) {
  const route = question === 'liveness' ? 'healthz' : 'readyz';
  return async (request: RequestHead, clientGone: CancelSignal, conditions: RequestConditions): Promise<HttpResponse> => {
    const verdict = (conditions.budgetPressed && health.recentVerdict(RECENT_VERDICT_MAX_AGE_MS, question)) || (await health.verdict(clientGone, question));
    const status = verdict.healthy ? 200 : 500;
    const body = wantsVerbose(request.query) ? formatHealthReport(verdict, health.snapshot(), route) : verdict.reason;
    answered(status);
    return textResponse(status, body, NO_STORE);
  };
}

/** "?verbose", "?verbose=1", "?verbose=true" (as the Kubernetes API server's /healthz). */
function wantsVerbose(query: string): boolean {
  if (query === '') return false;
  const verbose = new URLSearchParams(query).get('verbose');
  return verbose !== null && verbose !== '0' && verbose !== 'false';
}
