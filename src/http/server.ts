// HTTP listeners: exact-path routing (as Go's ServeMux for "/healthz"),
// listen errors that name the address, and closing.

import * as http from 'node:http';
import { formatListenAddress, ListenAddress } from './listen-address';
import { sendNotFound } from './respond';

export type RouteHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void | Promise<void>;

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

export class HttpListener {
  private readonly server: http.Server;

  constructor(
    readonly address: ListenAddress,
    private readonly routes: ReadonlyMap<string, RouteHandler>,
    /** The flag that set this address, for error messages ("--http-endpoint"). */
    private readonly flagName: string,
  ) {
    this.server = http.createServer((request, response) => this.route(request, response));
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

  /** Stops accepting connections and closes idle ones. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
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
