// HTTP load on /healthz with autocannon (a real load generator, in this process).

import autocannon from 'autocannon';

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** How long a load lasts: a duration, or a number of requests (as fast as the connections allow). */
export type LoadLength = { readonly seconds: number } | { readonly requests: number };

/** Sends GET requests to `url` on `connections` kept-alive connections, one in flight on each. */
export async function runLoad(url: string, connections: number, length: LoadLength): Promise<LoadResult> {
  const startedAt = performance.now();
  const result = await autocannon({ url, connections, pipelining: 1, ...('seconds' in length ? { duration: length.seconds } : { amount: length.requests }) });
  const seconds = 'seconds' in length ? length.seconds : (performance.now() - startedAt) / 1000;
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
