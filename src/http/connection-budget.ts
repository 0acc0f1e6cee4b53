// How many HTTP connections the sidecar holds at once, and which one goes when
// a new one arrives at the limit.
//
// A fixed cap that refuses new connections lets anyone who can reach the port
// lock the kubelet out: hold the cap with half-sent requests and every probe
// (a new connection each time) is refused. So a new connection is always
// accepted, and at the limit the connection least likely to be a prober is
// closed instead. The kubelet opens a new connection for every probe and
// sends one request on it at once; so, in this order:
//   1. the oldest idle keep-alive connection (it has had its answer);
//   2. the longest-held connection that was answered before and asks again:
//      whatever it is, it is not a kubelet probe, which never asks twice;
//   3. none of those: the newcomer is held beyond the budget, in
//      OVERDRAFT_CONNECTIONS descriptors kept for this, while the held ones
//      finish (a connection answered leaves, or becomes 1 or 2);
//   4. the overdraft full too: the oldest connection without a whole request
//      head that has had HEADER_GRACE_TURNS turns of the event loop to send
//      one (a connection accepted just before the newcomer may be the
//      kubelet's, its head not read yet);
//   5. none: every connection has a first request being answered, each as
//      likely the kubelet's as the newcomer, and the newcomer is closed.
// Once the budget is half full, a first request is answered from a check that
// finished within RECENT_VERDICT_MAX_AGE_MS (healthz.ts), so such connections
// hold their descriptor for microseconds, not for a slow driver's Probe, and
// the budget seldom fills: from full only, requests that had started waiting
// for a slow Probe while it filled held every place, and the kubelet's
// connection was closed as all-busy (1 probe of 40 with 200 churners and an
// 800 ms Probe, in a CI run).
//
// The kernel's accept queue: libuv (1.52, Node 24) accepts one connection
// per event-loop turn, and a connection waits there behind every one queued
// before it; each connection shed for room is re-opened by a hostile client
// at once, to the back of that queue. So turns must stay quick: once the
// budget is half full, a request on a connection answered before waits
// REPEAT_WAIT_MS before it is answered (waitBeforeAnswering), unless its
// connection is shed first. Each answer brings a repeating client's next
// request: 1,000 of them answered as fast as they asked made turns of 50 ms,
// and the kubelet's connection waited seconds in the queue (measured). Nothing
// is left in the queue on purpose: Node's net server has no way to pause
// accept(), and at the open-file limit libuv accepts and closes every
// connection queued (its EMFILE reserve-descriptor trick), the kubelet's among
// them. So the budget and the overdraft stay below the limit by RESERVED_FDS
// (connection-sizing.ts), and accept() never fails.
//
// One budget serves every listener of the process: file descriptors and
// memory are the process's, not a listener's.

import type { Socket } from 'node:net';

/** Why a connection was closed early. */
export type ShedReason =
  /** Idle keep-alive connection, closed to make room for a new one. */
  | 'idle'
  /** A request on a connection answered before (a repeating client, not a kubelet probe), closed unanswered to make room. */
  | 'repeat-request'
  /** Connected but no complete request header yet, closed to make room. */
  | 'header-incomplete'
  /** More requests sent ahead of their answers than a connection may hold. */
  | 'pipelining'
  /** An answer left unread too long: the client does not read. */
  | 'not-reading'
  /** Budget and overdraft full, every connection with a first request being answered (or a head not yet due): the new connection was closed. */
  | 'all-busy';

export const SHED_REASONS: readonly ShedReason[] = ['idle', 'repeat-request', 'header-incomplete', 'pipelining', 'not-reading', 'all-busy'];

/**
 * Connections held beyond the budget while no held one is idle or repeating
 * (see the order above). They come out of the descriptors connection-sizing.ts
 * keeps from the budget (RESERVED_FDS): the sidecar's own use is about 25.
 */
export const OVERDRAFT_CONNECTIONS = 24;

/**
 * How long a request waits before it is answered when it comes on a
 * connection answered before while the budget is half full or more: the
 * kubelet's smallest periodSeconds, so such a client is still answered once a
 * second.
 */
export const REPEAT_WAIT_MS = 1_000;

/** Event-loop turns a connection must have been open before it may be shed for not having sent a whole head. */
const HEADER_GRACE_TURNS = 2;

/**
 * The connections of every listener of the process: which to close for a
 * newcomer at the limit (admit), which request to answer without waiting
 * (isPressedFor) and which to hold back (waitBeforeAnswering); see the header.
 * Told by each connection when a request starts and is answered.
 */
export class ConnectionBudget {
  /** Connections with no request in progress that completed one before, oldest first. */
  private readonly idle = new Set<Socket>();
  /** Connections that have not yet sent a complete first request header, oldest first, with the turn they were admitted in. */
  private readonly awaitingHeader = new Map<Socket, number>();
  /**
   * Connections answered at least once, in the order of their first answer.
   * Invariant: while `idle` is empty, each of these has a request being answered.
   */
  private readonly answeredBefore = new Set<Socket>();
  /** Every open connection. Invariant: each is in at most one of `idle` and `awaitingHeader`, and in neither while a request is answered. */
  private readonly open = new Set<Socket>();
  /** Requests on connections answered before, held back while the budget is half full or more (waitBeforeAnswering), with what resumes each. */
  private readonly waiting = new Map<Socket, () => void>();
  /** Event-loop turns seen by admissions: incremented once after each turn in which a connection arrived. */
  private turn = 0;
  private turnEnding = false;

  constructor(
    /** Connections held at once, beyond which others are shed for a newcomer; at most OVERDRAFT_CONNECTIONS more when none can be. */
    readonly maxConnections: number,
    private readonly onShed: (reason: ShedReason) => void,
  ) {
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer, got ${maxConnections}`);
    }
  }

  /** A new connection: make room for it (see the order above); false (and closed) when none could be made. */
  admit(socket: Socket): boolean {
    this.countTurn();
    const full = this.open.size >= this.maxConnections;
    if (full && !this.shedIdleOrRepeating() && this.open.size >= this.maxConnections + OVERDRAFT_CONNECTIONS && !this.shedHeaderIncomplete()) {
      this.shed(socket, 'all-busy');
      return false;
    }
    this.open.add(socket);
    this.awaitingHeader.set(socket, this.turn);
    socket.once('close', () => this.forget(socket));
    return true;
  }

  /** Counts the event-loop turn in which a connection arrives, once (a check-phase callback ends it). */
  private countTurn(): void {
    if (this.turnEnding) return;
    this.turnEnding = true;
    setImmediate(() => {
      this.turn += 1;
      this.turnEnding = false;
    });
  }

  /** A request head arrived on `socket`: it is not to be shed until answered, unless it was answered before. */
  requestStarted(socket: Socket): void {
    this.idle.delete(socket);
    this.awaitingHeader.delete(socket);
  }

  /** The request on `socket` was answered: it is an idle keep-alive connection now. */
  requestAnswered(socket: Socket): void {
    if (this.open.has(socket) && !socket.destroyed) {
      this.idle.add(socket);
      this.answeredBefore.add(socket);
    }
  }

  /**
   * Whether a request just started on `socket` should be answered without
   * waiting, if it can be: the budget is half full or more and this is the
   * connection's first request (a repeated one is shed first anyway).
   */
  isPressedFor(socket: Socket): boolean {
    return this.open.size >= this.maxConnections / 2 && !this.answeredBefore.has(socket);
  }

  /**
   * Undefined when a request just started on `socket` may be answered now.
   * Else (the budget is half full or more and the connection was answered
   * before: a repeating client, never a kubelet probe) a promise to await first: it
   * resolves after REPEAT_WAIT_MS, or at once when the connection closes
   * (shed for room, or by its client). Never rejects.
   */
  waitBeforeAnswering(socket: Socket): Promise<void> | undefined {
    if (this.open.size < this.maxConnections / 2 || !this.answeredBefore.has(socket)) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.resumeWaiting(socket), REPEAT_WAIT_MS);
      this.waiting.set(socket, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private resumeWaiting(socket: Socket): void {
    const resume = this.waiting.get(socket);
    this.waiting.delete(socket);
    resume?.();
  }

  /** Closes the oldest idle connection, else the longest-held one answered before. False if there is none. */
  private shedIdleOrRepeating(): boolean {
    const idle = this.first(this.idle);
    const victim = idle ?? this.first(this.answeredBefore);
    if (!victim) return false;
    this.forget(victim);
    this.shed(victim, idle ? 'idle' : 'repeat-request');
    return true;
  }

  /** Closes the oldest connection without a whole request head, if it has had HEADER_GRACE_TURNS to send one. */
  private shedHeaderIncomplete(): boolean {
    const oldest = this.awaitingHeader.entries().next();
    if (oldest.done || this.turn - oldest.value[1] < HEADER_GRACE_TURNS) return false;
    this.forget(oldest.value[0]);
    this.shed(oldest.value[0], 'header-incomplete');
    return true;
  }

  private first(pool: Set<Socket>): Socket | undefined {
    const oldest = pool.values().next();
    return oldest.done ? undefined : oldest.value;
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
    this.answeredBefore.delete(socket);
    this.resumeWaiting(socket);
  }
}
