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
    options: { cause?: unknown; reachedGrpc?: boolean } = {},
  ) {
    super(`rpc error: code = ${grpcCodeName(grpcCode)} desc = ${description}`, { cause: options.cause });
    this.reachedGrpc = options.reachedGrpc ?? true;
  }

  /**
   * False when the call was refused before gRPC was asked (the socket file is
   * gone): the status is what gRPC would have said, but none was received.
   */
  readonly reachedGrpc: boolean;

  get codeName(): string {
    return grpcCodeName(this.grpcCode);
  }
}
