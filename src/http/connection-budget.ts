// How many HTTP connections the sidecar holds at once, and which one goes when
// a new one arrives at the limit.
//
// A fixed cap that refuses new connections lets anyone who can reach the port
// lock the kubelet out: hold the cap with half-sent requests and every probe
// (a new connection each time) is refused. So a new connection is always
// accepted, and at the limit the connection least likely to be a prober is
// closed instead: the oldest idle keep-alive connection first, then the oldest
// one that has not completed a request header. A connection with a request in
// progress is never closed: its answer is due within --probe-timeout.
//
// One budget serves every listener of the process: file descriptors and
// memory are the process's, not a listener's.

import type { Socket } from 'node:net';

/** Why a connection was closed early. */
export type ShedReason =
  /** Idle keep-alive connection, closed to make room for a new one. */
  | 'idle'
  /** Connected but no complete request header yet, closed to make room. */
  | 'header-incomplete'
  /** More requests sent ahead of their answers than a connection may hold. */
  | 'pipelining'
  /** An answer left unread too long: the client does not read. */
  | 'not-reading'
  /** At the limit with every connection busy: the new connection was closed. */
  | 'all-busy';

export const SHED_REASONS: readonly ShedReason[] = ['idle', 'header-incomplete', 'pipelining', 'not-reading', 'all-busy'];

export class ConnectionBudget {
  /** Connections with no request in progress that completed one before, oldest first. */
  private readonly idle = new Set<Socket>();
  /** Connections that have not yet sent a complete first request header, oldest first. */
  private readonly awaitingHeader = new Set<Socket>();
  /** Every open connection. Invariant: each is in at most one of the two ordered sets, and in neither while a request is answered. */
  private readonly open = new Set<Socket>();

  constructor(
    /** At most this many connections are open once a new arrival has been settled. */
    readonly maxConnections: number,
    private readonly onShed: (reason: ShedReason) => void,
  ) {
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
    }
  }

  /** A new connection: make room for it by closing the least useful one; false (and closed) when all are busy. */
  admit(socket: Socket): boolean {
    if (this.open.size >= this.maxConnections && !this.shedOldest()) {
      this.shed(socket, 'all-busy');
      return false;
    }
    this.open.add(socket);
    this.awaitingHeader.add(socket);
    socket.once('close', () => this.forget(socket));
    return true;
  }

  /** A request head arrived on `socket`: it is not to be shed until answered. */
  requestStarted(socket: Socket): void {
    this.idle.delete(socket);
    this.awaitingHeader.delete(socket);
  }

  /** The request on `socket` was answered: it is an idle keep-alive connection now. */
  requestAnswered(socket: Socket): void {
    if (this.open.has(socket) && !socket.destroyed) this.idle.add(socket);
  }

  /** Closes the oldest idle connection, else the oldest one without a request header. False if none is. */
  private shedOldest(): boolean {
    for (const [pool, reason] of [
      [this.idle, 'idle'],
      [this.awaitingHeader, 'header-incomplete'],
    ] as const) {
      const oldest = pool.values().next();
      if (!oldest.done) {
        this.forget(oldest.value);
        this.shed(oldest.value, reason);
        return true;
      }
    }
    return false;
  }

  /** Closes `socket` early and reports why. */
  shed(socket: Socket, reason: ShedReason): void {
    socket.destroy();
    this.onShed(reason);
  }

  private forget(socket: Socket): void {
    this.open.delete(socket);
    this.idle.delete(socket);
    this.awaitingHeader.delete(socket);
  }
}
