// A unix-socket server that speaks HTTP/2 frames written by hand, for the
// driver misbehaviour even a scripted node:http2 server will not produce:
// endless CONTINUATION frames, oversized frames, undecodable header blocks.
// It reads the client's preface, answers with empty SETTINGS (or the preface
// frame given), and hands the socket to the script once the first request
// HEADERS has arrived.

import * as fs from 'node:fs';
import * as net from 'node:net';
import type { TestContext } from 'node:test';

const PREFACE_BYTES = 24;
const HEADERS_TYPE = 0x1;

/** One HTTP/2 frame: a 9-byte header and the payload. */
export function rawFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

export type RawScript = (socket: net.Socket, streamId: number) => void;

export class RawHttp2Server {
  /** Every frame the client sent after its preface, as [type, flags, streamId, payload]. */
  readonly framesReceived: [number, number, number, Buffer][] = [];
  connections = 0;

  private constructor() {}

  static async start(t: TestContext, socketPath: string, script: RawScript, preface: Buffer = rawFrame(0x4, 0, 0)): Promise<RawHttp2Server> {
    fs.rmSync(socketPath, { force: true });
    const raw = new RawHttp2Server();
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      raw.connections += 1;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      socket.write(preface); // SETTINGS, empty, unless a test says otherwise
      let buffered = Buffer.alloc(0);
      let prefaceRead = false;
      let scripted = false;
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (!prefaceRead) {
          if (buffered.length < PREFACE_BYTES) return;
          buffered = buffered.subarray(PREFACE_BYTES);
          prefaceRead = true;
        }
        while (buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
          const length = buffered.readUIntBE(0, 3);
          const frame: [number, number, number, Buffer] = [buffered[3], buffered[4], buffered.readUInt32BE(5) & 0x7fffffff, buffered.subarray(9, 9 + length)];
          raw.framesReceived.push(frame);
          buffered = buffered.subarray(9 + length);
          if (frame[0] === HEADERS_TYPE && !scripted) {
            scripted = true;
            script(socket, frame[2]);
          }
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    t.after(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    return raw;
  }
}
