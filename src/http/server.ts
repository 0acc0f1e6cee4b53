// HTTP listeners: routing by Go's ServeMux rules (serve-mux.ts), listen
// errors that name the address, and closing. Connections are served by
// HttpConnection (one request at a time, bounded); how many are held, and
// which go first, is the ConnectionBudget's job.

import { type AddressInfo, BoundSocket, createServer, Server, Socket } from 'node:net';
import type { ConnectionBudget } from './connection-budget';
import { HttpConnection } from '../wire/http1/server-connection';
import type { RequestHead } from '../wire/http1/request-head';
import { chooseBindHost, describeBoundStack, formatListenAddress, ListenAddress } from './listen-address';
import { RouteHandler, serveRequest } from './serve-mux';
import { textResponse } from '../wire/http1/response';
import type { CancelSignal } from '../cancel-signal';

export type { RouteHandler } from './serve-mux';

/**
 * Connections the kernel queues before the sidecar accepts them (capped by
 * net.core.somaxconn, 4096 by default since Linux 5.4). Node's default, 511,
 * fills under a connection flood, and a kubelet SYN dropped there is resent
 * only after a second: the probe times out.
 */
const LISTEN_BACKLOG = 4096;

/** What a request gets whose connection was shed while it waited for room: nothing is written to a closed socket. */
const SHED_WHILE_WAITING = textResponse(503, 'connection closed to make room');

/** Listening failed; the message names the address, the cause and what to do. */
export class ListenError extends Error {
  readonly code = 'ERR_LISTEN';

  constructor(
    /** The address as configured ("0.0.0.0:9808"). */
    readonly address: string,
    /** The cause and what to do about it. */
    readonly advice: string,
    cause: Error,
  ) {
    super(`cannot listen on ${address}: ${advice}`, { cause });
  }
}

const LISTEN_ERROR_ADVICE: Record<string, string> = {
  EADDRINUSE: 'address already in use; pick another port or stop the other process',
  EACCES: 'permission denied; use a port above 1023 or grant CAP_NET_BIND_SERVICE',
  EADDRNOTAVAIL: 'no local interface has this address; use 0.0.0.0, :port or an address of this host',
  ENOTFOUND: 'the host name does not resolve; use an IP address or :port',
  EAI_AGAIN: 'the host name could not be resolved; use an IP address or :port',
};

export class HttpListener {
  private readonly server: Server;
  private readonly connections = new Set<HttpConnection>();

  constructor(
    readonly address: ListenAddress,
    private readonly routes: ReadonlyMap<string, RouteHandler>,
    private readonly budget: ConnectionBudget,
  ) {
    // Half-open: a client may send its request and close its side; it still gets the answer.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  /**
   * Starts listening where Go's net.Listen would (listen-address.ts): an
   * unspecified host on every interface, IPv6 and IPv4. Resolves with the bound
   * address ("[::]:9808", "127.0.0.1:43120") and the IP versions it serves.
   * Rejects with ListenError.
   */
  async listen(): Promise<{ address: string; stack: string }> {
    const configured = formatListenAddress(this.address);
    const adviseOn = (err: NodeJS.ErrnoException) => new ListenError(configured, LISTEN_ERROR_ADVICE[err.code ?? ''] ?? err.message, err);
    let bindHost: string | undefined;
    try {
      bindHost = (await chooseBindHost(this.address.host)).host;
    } catch (err) {
      throw adviseOn(err as NodeJS.ErrnoException);
    }
    // An address is bound first (net.BoundSocket takes IP literals only, and chooseBindHost gives one), then
    // listened on: listen() with a host would look the literal up again and test each answer with node:net's
    // IPv6 regular expression, which V8 compiles on first use (10-20 ms of CPU at start-up, measured).
    let bound: BoundSocket | undefined;
    if (bindHost !== undefined) {
      try {
        bound = new BoundSocket({ host: bindHost, port: this.address.port, ipv6Only: false });
      } catch (err) {
        throw adviseOn(err as NodeJS.ErrnoException);
      }
    }
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => reject(adviseOn(err));
      this.server.once('error', onError);
      const onListening = () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        resolve({ address: formatListenAddress({ host: address.address, port: address.port }), stack: describeBoundStack(address, bindHost === undefined) });
      };
      if (bound) this.server.listen(bound, LISTEN_BACKLOG, onListening);
      // ipv6Only false: a socket on "::" takes IPv4 too whatever net.ipv6.bindv6only says, as Go sets it.
      else this.server.listen({ port: this.address.port, backlog: LISTEN_BACKLOG, ipv6Only: false }, onListening);
    });
  }

  /** Stops accepting connections; requests already received are still answered, then their connections close. */
  stopAccepting(): void {
    if (this.server.listening) this.server.close();
    for (const connection of this.connections) connection.drain();
  }

  /** Closes every connection, idle or not. */
  closeConnections(): void {
    for (const connection of this.connections) connection.destroy();
  }

  private serve(socket: Socket, head: RequestHead, clientGone: CancelSignal) {
    return serveRequest(this.routes, head, clientGone, { budgetPressed: this.budget.isPressedFor(socket) });
  }

  private accept(socket: Socket): void {
    if (!this.budget.admit(socket)) return;
    // The budget is asked as each request starts (HttpConnection reports the start before it routes).
    const route = (head: RequestHead, clientGone: CancelSignal) => {
      const wait = this.budget.waitBeforeAnswering(socket);
      if (wait) return wait.then(() => (socket.destroyed ? SHED_WHILE_WAITING : this.serve(socket, head, clientGone)));
      return this.serve(socket, head, clientGone);
    };
    const connection = new HttpConnection(socket, route, this.budget);
    this.connections.add(connection);
    socket.once('close', () => this.connections.delete(connection));
  }
}
