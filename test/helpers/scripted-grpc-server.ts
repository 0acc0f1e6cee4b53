// A raw HTTP/2 server on a unix socket that answers gRPC calls exactly as a
// test scripts it: trailers-only errors, messages split across DATA frames,
// compressed flags, GOAWAY, RST_STREAM. A real grpc server will not misbehave
// on request, so the transport conformance tests use this beside the grpc-js
// test driver.

import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import type { TestContext } from 'node:test';

export type ScriptedHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, sessionNumber: number) => void;

export class ScriptedGrpcServer {
  /** Sessions opened so far (numbered from 1 in handler calls). */
  sessions = 0;
  /** Request headers of every call, in order. */
  readonly requests: http2.IncomingHttpHeaders[] = [];

  private constructor(readonly socketPath: string) {}

  static async start(t: TestContext, socketPath: string, handler: ScriptedHandler): Promise<ScriptedGrpcServer> {
    fs.rmSync(socketPath, { force: true });
    const server = http2.createServer();
    const scripted = new ScriptedGrpcServer(socketPath);
    const open = new Set<http2.ServerHttp2Session>();
    server.on('session', (session) => {
      scripted.sessions += 1;
      const sessionNumber = scripted.sessions;
      open.add(session);
      session.on('error', () => {}); // a client reset is part of several scripts
      session.on('close', () => open.delete(session));
      session.on('stream', (stream, headers) => {
        stream.on('error', () => {});
        scripted.requests.push(headers);
        // The unary request is read whole before the script answers, as a gRPC server does.
        stream.on('data', () => {});
        stream.on('end', () => handler(stream, headers, sessionNumber));
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    t.after(
      () =>
        new Promise<void>((resolve) => {
          for (const session of open) session.destroy();
          server.close(() => resolve());
        }),
    );
    return scripted;
  }
}

/**
 * Whether an answer can still be written: a script may answer late (a timer, as a slow driver), after the client
 * reset the stream at its deadline or the test ended, and node:http2 throws on a destroyed stream. A real driver's
 * late answer is dropped the same way.
 */
function isOpen(stream: http2.ServerHttp2Stream): boolean {
  return !stream.destroyed && !stream.closed && !stream.session?.destroyed;
}

/** The 5-byte gRPC frame header and message, with the compressed flag as given. */
export function grpcFrame(message: Buffer, compressedFlag = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(compressedFlag, 0);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** Sends response headers, the given DATA chunks (each its own frame, a turn apart), then trailers. */
export function respondWithChunks(stream: http2.ServerHttp2Stream, chunks: readonly Buffer[], trailers: http2.OutgoingHttpHeaders = { 'grpc-status': '0' }): void {
  if (!isOpen(stream)) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  const writeNext = (index: number): void => {
    if (stream.destroyed) return;
    if (index === chunks.length) return void stream.end();
    stream.write(chunks[index], () => setTimeout(() => writeNext(index + 1), 5));
  };
  writeNext(0);
}

/** A successful unary answer: one message in one frame. */
export function respondOk(stream: http2.ServerHttp2Stream, message: Buffer): void {
  respondWithChunks(stream, [grpcFrame(message)]);
}

/** An immediate error: status in the only HEADERS frame ("Trailers-Only"). */
export function respondTrailersOnly(stream: http2.ServerHttp2Stream, code: number, encodedMessage: string): void {
  if (!isOpen(stream)) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(code), 'grpc-message': encodedMessage }, { endStream: true });
}
