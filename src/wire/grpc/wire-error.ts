// What can be wrong with a gRPC answer at the wire level, as a value with a
// stable kind and the values seen. The wire code knows nothing of who called
// (CSI); the caller (src/csi/call-failures.ts) turns each kind into its
// status code and text.

/** The ways a gRPC response breaks the rules of grpc/grpc doc/PROTOCOL-HTTP2.md, as grpc-go judges them. */
export type GrpcWireProblem =
  /** A second message in a unary answer, or bytes past the first. */
  | { readonly kind: 'cardinality-violation' }
  /** The Compressed-Flag byte is neither 0 nor 1. */
  | { readonly kind: 'invalid-compressed-flag'; readonly flag: number }
  /** A compressed message although the call asked for none (no grpc-accept-encoding). */
  | { readonly kind: 'unasked-compression'; readonly encoding: string | undefined }
  /** A message announced longer than the receive limit. */
  | { readonly kind: 'message-too-large'; readonly length: number; readonly limitBytes: number }
  /** grpc-status is not 1*DIGIT, or past 2^32-1. */
  | { readonly kind: 'malformed-grpc-status'; readonly value: string; readonly reason: 'invalid syntax' | 'value out of range' }
  /** A binary metadata field ("-bin") whose value is not base64 (padded, or unpadded when its length is not a multiple of 4). */
  | { readonly kind: 'malformed-binary-header'; readonly name: string; readonly value: string }
  /** :status is not three digits (RFC 9110 section 15: status-code = 3DIGIT). */
  | { readonly kind: 'malformed-http-status'; readonly value: string }
  /**
   * The response headers are not a gRPC answer: :status missing or not 200,
   * or content-type missing or not application/grpc[+|;...].
   */
  | {
      readonly kind: 'not-a-grpc-response';
      /** undefined: no :status field. */
      readonly httpStatus: number | undefined;
      /** undefined when content-type is a gRPC one; null when it is missing. */
      readonly contentType: string | null | undefined;
    }
  /** The stream ended with DATA (END_STREAM) and never sent trailers. */
  | { readonly kind: 'no-trailers' }
  /** The stream ended in the middle of a length-prefixed message. */
  | { readonly kind: 'ended-mid-message' }
  /** Status OK, but no message in a unary answer. */
  | { readonly kind: 'ok-without-message' };

export type GrpcWireProblemKind = GrpcWireProblem['kind'];
