// HTTP listeners: exact-path routing (as Go's ServeMux for "/healthz"),
// limits that keep slow or broken clients from holding the sidecar, listen
// errors that name the address, and closing.

import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { formatListenAddress, ListenAddress } from './listen-address';
import { sendNotFound } from './respond';

export type RouteHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void | Promise<void>;

/** A client must send its whole header within this time (slowloris). */
export const HEADERS_TIMEOUT_MS = 5_000;
/** ... and its whole request within this time. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Kubelet opens a connection per probe; idle keep-alive connections need not linger. */
const KEEP_ALIVE_TIMEOUT_MS = 2_000;
/** How often Node looks for connections past the two timeouts above. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/** Go's default is 1 MiB; a health endpoint needs far less. Larger headers get 431. */
const MAX_HEADER_BYTES = 8 * 1024;
/** Open connections beyond this are refused: a flood cannot exhaust file descriptors. */
const MAX_CONNECTIONS = 512;

/** Listening failed; the message names the address, the cause and what to do. */
export class ListenError extends Error {
  readonly code = 'ERR_LISTEN';
}

const LISTEN_ERROR_ADVICE: Record<string, string> = {
  EADDRINUSE: 'address already in use; pick another port or stop the other process',
  EACCES: 'permission denied; use a port above 1023 or grant CAP_NET_BIND_SERVICE',
  EADDRNOTAVAIL: 'no local interface has this address; use 0.0.0.0, :port or an address of this host',
  ENOTFOUND: 'the host name does not resolve; use an IP address or :port',
  EAI_AGAIN: 'the host name could not be resolved; use an IP address or :port',
};

/** Status for a request Node could not parse or that took too long; Go's words in the body. */
function clientErrorStatus(err: NodeJS.ErrnoException): number {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  return 400;
}

function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err);
  const text = `${status} ${http.STATUS_CODES[status]}`;
  socket.end(`HTTP/1.1 ${text}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
}

export class HttpListener {
  private readonly server: http.Server;

  constructor(
    readonly address: ListenAddress,
    private readonly routes: ReadonlyMap<string, RouteHandler>,
    /** The flag that set this address, for error messages ("--http-endpoint"). */
    private readonly flagName: string,
  ) {
    this.server = http.createServer(
      {
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      (request, response) => this.route(request, response),
    );
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('clientError', answerClientError);
  }

  /** Starts listening; resolves with the bound address ("127.0.0.1:43120"). Rejects with ListenError. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const advice = LISTEN_ERROR_ADVICE[err.code ?? ''] ?? err.message;
        reject(new ListenError(`cannot listen on ${formatListenAddress(this.address)} (${this.flagName}): ${advice}`, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen({ host: this.address.host, port: this.address.port }, () => {
        this.server.off('error', onError);
        const bound = this.server.address() as { address: string; port: number };
        resolve(formatListenAddress({ host: bound.address, port: bound.port }));
      });
    });
  }

  /** Stops accepting connections; requests already received are still answered. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
    this.server.closeIdleConnections();
  }

  /** Closes every connection, idle or not. */
  closeConnections(): void {
    this.server.closeAllConnections();
  }

  private route(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = request.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart < 0 ? url : url.slice(0, queryStart);
    const handler = this.routes.get(path);
    if (!handler) return sendNotFound(response);
    Promise.resolve(handler(request, response)).catch((err: unknown) => {
      // Handlers turn driver failures into responses; reaching here is our bug. Answer, don't crash.
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    });
  }
}
