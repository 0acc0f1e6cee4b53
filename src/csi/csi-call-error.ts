// The one error a CSI call fails with. Its message is grpc-go's text
// ("rpc error: code = Unavailable desc = ..."), which is what upstream puts in
// /healthz bodies and logs, so alerts and runbooks that match it keep working.

import { grpcCodeName } from './grpc-status';

export class CsiCallError extends Error {
  readonly code = 'ERR_CSI_CALL';

  constructor(
    /** The gRPC status code (grpc.status numbering). */
    readonly grpcCode: number,
    /** The status description: the driver's own text, or ours for local failures. */
    readonly description: string,
    options?: { cause?: unknown },
  ) {
    super(`rpc error: code = ${grpcCodeName(grpcCode)} desc = ${description}`, options);
  }

  get codeName(): string {
    return grpcCodeName(this.grpcCode);
  }
}
