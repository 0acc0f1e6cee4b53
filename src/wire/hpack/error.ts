// A header block the sidecar cannot decode: HTTP/2 says this is a
// connection error of type COMPRESSION_ERROR (RFC 7540 section 4.3), since
// the peer's and our header tables no longer agree.

export class HpackError extends Error {
  readonly code = 'ERR_HPACK';
}
