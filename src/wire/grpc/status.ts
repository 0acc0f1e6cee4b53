// gRPC status codes under the names Go's grpc-go prints ("DeadlineExceeded"),
// used in /healthz bodies ("rpc error: code = ... desc = ...") and metric labels.

const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const;

// The codes the sidecar itself produces or maps to (grpc/grpc doc/statuscodes.md).
export const STATUS_OK = 0;
export const STATUS_CANCELLED = 1;
export const STATUS_UNKNOWN = 2;
export const STATUS_DEADLINE_EXCEEDED = 4;
export const STATUS_PERMISSION_DENIED = 7;
export const STATUS_RESOURCE_EXHAUSTED = 8;
export const STATUS_UNIMPLEMENTED = 12;
export const STATUS_INTERNAL = 13;
export const STATUS_UNAVAILABLE = 14;
export const STATUS_UNAUTHENTICATED = 16;

/** Go's codes.Code.String(): "Unavailable", or "Code(42)" for codes it does not know. */
export function grpcCodeName(code: number): string {
  return GO_CODE_NAMES[code] ?? `Code(${code})`;
}
