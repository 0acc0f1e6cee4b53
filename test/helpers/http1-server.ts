// The sidecar's HTTP/1.1 server (src/wire/http1/) alone on a loopback port,
// with a /healthz route answering 200 "ok" and 404 elsewhere, as the sidecar
// routes: for tests of the wire behaviour without a driver or the sidecar's
// own routes.

import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ConnectionAdmission, HttpConnection } from '../../src/wire/http1/server-connection';
import { notFoundResponse, textResponse } from '../../src/wire/http1/response';

/** Starts the server under test on a loopback port: the wire pieces with a /healthz route, as the sidecar routes it. */
export async function startOurServer(): Promise<{ port: number; close(): Promise<void> }> {
  const admission: ConnectionAdmission = { requestStarted() {}, requestAnswered() {}, shed: (socket) => socket.destroy() };
  const connections = new Set<HttpConnection>();
  // As src/http/server.ts: a client's FIN must not end our side before its answers are written.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const connection = new HttpConnection(socket, (head) => (head.path === '/healthz' ? textResponse(200, 'ok') : notFoundResponse()), admission);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.destroy();
        server.close(() => resolve());
      }),
  };
}

