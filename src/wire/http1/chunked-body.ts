// Reads through a chunked request body (RFC 9112 section 7.1) to find where
// it ends, dropping its data: the sidecar's routes read no bodies, but the
// connection can only serve the next request once the body is behind it.
// Written by hand because the server reads its connections itself (see
// request-head.ts); it accepts what Go's net/http accepts (internal/chunked.go
// and transfer.go readTrailer), so that the two agree on where the next
// request starts: a chunk-size line ends in LF (with or without CR), its
// trailing whitespace and extensions (";...") are ignored, an empty size is 0,
// at most 16 hex digits; chunk data ends in exactly CRLF; the trailer section
// is either CRLF at once or field lines ending in an empty line with a CRLF
// CRLF within 4 KiB.

/** Go's maxLineLength for a chunk-size line, LF included. */
const MAX_SIZE_LINE_BYTES = 4096;
/** Go looks for the trailer section's end within its 4 KiB read buffer. */
const MAX_TRAILER_BYTES = 4096;
const CR = 0x0d;
const LF = 0x0a;

export type ChunkedProgress =
  /** All of `consumed` belonged to the body; it is not over. */
  | { readonly state: 'more'; readonly consumed: number }
  /** The body ended after `consumed` bytes of this input; what follows is the next request. */
  | { readonly state: 'done'; readonly consumed: number }
  /** Not a chunked body, or longer than allowed: the connection cannot be reused. */
  | { readonly state: 'malformed' | 'too-large'; readonly reason: string };

/** One chunked body, fed the connection's input as it arrives. */
export class ChunkedBodySkipper {
  private phase: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  /** Bytes of the current size line, data-end CRLF or trailer section held until complete (bounded by the limits above). */
  private pending = Buffer.alloc(0);
  private dataLeft = 0;
  private decodedBytes = 0;

  /** @param maxDecodedBytes chunk data beyond this is 'too-large'. */
  constructor(private readonly maxDecodedBytes: number) {}

  /** Reads what of `input` belongs to the body. */
  feed(input: Buffer): ChunkedProgress {
    let at = 0;
    while (at < input.length) {
      if (this.phase === 'data') {
        const take = Math.min(this.dataLeft, input.length - at);
        this.dataLeft -= take;
        at += take;
        if (this.dataLeft === 0) this.phase = 'data-end';
        continue;
      }
      if (this.phase === 'data-end') {
        const take = input.subarray(at, at + 2 - this.pending.length);
        this.pending = Buffer.concat([this.pending, take]);
        at += take.length;
        if (this.pending.length < 2) return { state: 'more', consumed: input.length };
        const ok = this.pending[0] === CR && this.pending[1] === LF;
        this.pending = Buffer.alloc(0);
        if (!ok) return { state: 'malformed', reason: 'chunk data not followed by CRLF' };
        this.phase = 'size';
        continue;
      }
      if (this.phase === 'size') {
        const lf = input.indexOf(LF, at);
        const end = lf < 0 ? input.length : lf + 1;
        this.pending = Buffer.concat([this.pending, input.subarray(at, end)]);
        at = end;
        if (this.pending.length >= MAX_SIZE_LINE_BYTES) return { state: 'malformed', reason: 'chunk-size line too long' };
        if (lf < 0) return { state: 'more', consumed: input.length };
        const size = parseChunkSize(this.pending);
        this.pending = Buffer.alloc(0);
        if (typeof size === 'string') return { state: 'malformed', reason: size };
        if (size === 0n) {
          this.phase = 'trailer';
          continue;
        }
        if (size > BigInt(this.maxDecodedBytes - this.decodedBytes)) return { state: 'too-large', reason: `chunked body over ${this.maxDecodedBytes} bytes` };
        this.dataLeft = Number(size);
        this.decodedBytes += this.dataLeft;
        this.phase = 'data';
        continue;
      }
      // Trailer section: held whole until it is known to end.
      const before = this.pending.length;
      this.pending = Buffer.concat([this.pending, input.subarray(at, at + MAX_TRAILER_BYTES + 1 - before)]);
      const end = trailerEnd(this.pending);
      if (typeof end === 'string') return { state: 'malformed', reason: end };
      if (end === undefined) {
        if (this.pending.length > MAX_TRAILER_BYTES) return { state: 'malformed', reason: `trailer section over ${MAX_TRAILER_BYTES} bytes` };
        return { state: 'more', consumed: input.length };
      }
      // An end before this input (an empty LF line held while waiting for CRLF CRLF) would reach back into bytes already dropped.
      if (end < before) return { state: 'malformed', reason: 'trailer section ended in bytes already read' };
      return { state: 'done', consumed: at + end - before };
    }
    return { state: 'more', consumed: input.length };
  }
}

/** A chunk-size line (LF included): hex digits after trailing whitespace and any extension are cut off. */
function parseChunkSize(line: Buffer): bigint | string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === 0x20 || line[end - 1] === 0x09 || line[end - 1] === CR || line[end - 1] === LF)) end--;
  let text = line.toString('latin1', 0, end);
  const semicolon = text.indexOf(';');
  if (semicolon >= 0) text = text.slice(0, semicolon);
  if (!/^[0-9A-Fa-f]*$/.test(text)) return `invalid byte in chunk length ${JSON.stringify(text)}`;
  if (text.length > 16) return `chunk length too large ${JSON.stringify(text)}`;
  return text === '' ? 0n : BigInt(`0x${text}`);
}

/**
 * Where the trailer section in `held` ends (bytes, from its start), undefined
 * when it may still be coming, or what is wrong with it. As Go: CRLF at once
 * ends it; otherwise a CRLF CRLF must be in sight, and the field lines up to
 * the first empty line must be fields (a colon; the first not folded).
 */
function trailerEnd(held: Buffer): number | string | undefined {
  if (held.length < 2) return undefined;
  if (held[0] === CR && held[1] === LF) return 2;
  const limit = Math.min(held.length, MAX_TRAILER_BYTES);
  if (held.subarray(0, limit).indexOf('\r\n\r\n') < 0) return undefined;
  for (let start = 0, first = true; ; first = false) {
    const lf = held.indexOf(LF, start);
    const line = held.toString('latin1', start, lf > start && held[lf - 1] === CR ? lf - 1 : lf);
    if (line === '') return lf + 1;
    const folded = line.startsWith(' ') || line.startsWith('\t');
    if ((folded && first) || (!folded && !line.includes(':'))) return `malformed trailer line ${JSON.stringify(line)}`;
    start = lf + 1;
  }
}
