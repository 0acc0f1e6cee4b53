// The sidecar started in-process (startSidecar) from the flags a user would
// give, its log lines collected, closed after the test. For what the check,
// discovery, connection and shutdown do; what only a process shows (flags,
// exit codes, signals, stderr) is tested through ./sidecar.ts.

import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import { parseSidecarOptions } from '../../src/cli/options';
import { Logger } from '../../src/log/logger';
import { RunningSidecar, startSidecar } from '../../src/sidecar';
import { httpRequest, HttpResult } from './http';
import { LineCollector } from './lines';

export interface InProcessSidecar {
  readonly sidecar: RunningSidecar;
  /** Info, warning and error lines, as klog text. */
  readonly log: LineCollector;
  request(urlPath?: string): Promise<HttpResult>;
}

/** Starts the sidecar with `args` (Go flag syntax) on a free loopback port; closed after the test. */
export async function startInProcess(t: TestContext, args: readonly string[]): Promise<InProcessSidecar> {
  const options = parseSidecarOptions(['--http-endpoint=127.0.0.1:0', ...args]);
  const lines = new PassThrough();
  const logger = new Logger({ format: 'text', verbosity: options.verbosity, infoStream: lines, errorStream: lines });
  const sidecar = await startSidecar(options, logger);
  t.after(() => sidecar.close());
  return {
    sidecar,
    log: new LineCollector(lines),
    request: (urlPath = '/healthz') => httpRequest(`http://${sidecar.healthAddress}${urlPath}`),
  };
}
