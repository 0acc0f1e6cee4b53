// CsiTransport over the sidecar's own HTTP/2 client (../http2/): gRPC's
// unary calls on one HTTP/2 connection to the driver. No node:http2: it
// would cost 10 MiB of resident memory on Node 24 (docs/design.md, "The CSI transport").
//
// - One session, dialled lazily and kept while it works; a new one after
//   GOAWAY, close, error, or when the socket file is replaced.
// - Calls never wait for a connection to come back: a failed dial fails the
//   calls waiting on it with the connect error, and for RECONNECT_MIN_INTERVAL_MS
//   afterwards calls fail at once with that error instead of dialling again, so
//   a flood of checks during an outage does not open a connection each.

import { connect, type OnReadOpts } from 'node:net';
import type { CancelSignal } from '../../cancel-signal';
import { CsiAddress } from '../address';
import { callNotStarted, cancelledByCaller, cancelledByShutdown, connectFailed, connectionSetupFailed, CsiCallError } from '../call-failures';
import { Http2ClientSession } from '../../wire/http2/client-session';
import { ConnectivityStateName, CsiTransport, RECONNECT_MIN_INTERVAL_MS, TransportEvents } from '../transport';
import { connectUnixSocket } from '../unix-socket-connect';
import { CallOutcome, Http2UnaryCall } from './http2-unary-call';

/** How long a PING may take before the session is taken for dead. */
const PING_TIMEOUT_MS = 1_000;
/** The socket's one reused read buffer: a whole largest frame (16 KiB and its 9-byte header) per read. */
const READ_BUFFER_BYTES = 16 * 1024 + 9;

/** Called once per try, with the session it ran on. */
type CallSettler = (outcome: CallOutcome, driverSession: DriverSession) => void;

/** One session and what the transport tracks of it. */
class DriverSession {
  /** Set while a PING checks whether the session still carries anything. */
  pingInFlight = false;

  constructor(readonly session: Http2ClientSession) {}
}

export class Http2Transport implements CsiTransport {
  /** Invariant: undefined, or a session that is neither closed, destroyed, nor told to go away. */
  private current: DriverSession | undefined;
  private currentState: ConnectivityStateName = 'IDLE';
  /** The last failed dial, while the state is TRANSIENT_FAILURE. */
  private lastConnectFailure: { readonly error: CsiCallError; readonly at: number } | undefined;
  /** Calls not yet settled, so that close() can cancel them. */
  private readonly callsInFlight = new Set<Http2UnaryCall>();
  /** Every session's socket reads into this; a read is handled before the next one (client-session.ts). */
  private readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

  constructor(
    private readonly address: CsiAddress,
    private readonly events: TransportEvents,
  ) {}

  get state(): ConnectivityStateName {
    return this.currentState;
  }

  unaryCall(method: string, request: Buffer, timeoutMs: number, signal?: CancelSignal): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(cancelledByCaller(method));
    const failure = this.lastConnectFailure;
    if (!this.current && failure && performance.now() - failure.at < RECONNECT_MIN_INTERVAL_MS) {
      return Promise.reject(failure.error);
    }
    const deadline = performance.now() + timeoutMs;
    return new Promise((resolve, reject) => {
      let retried = false;
      /** The try in flight, for the caller's cancel. */
      let attempt: Http2UnaryCall | undefined;
      const onAbort = () => attempt?.cancel(cancelledByCaller(method));
      signal?.addEventListener('abort', onAbort);
      const settle: CallSettler = (outcome, driverSession) => {
        attempt = undefined;
        const remainingMs = deadline - performance.now();
        // One more try on a new session when the first could not have been answered: a refused stream never
        // reached the driver (gRPC's transparent retry); a connection that died under an unanswered call is
        // usually a driver that died or restarted before we noticed. The retry reports the driver's state now.
        // A peer that refuses or resets streams to calm us down will refuse the next one too on this
        // session; a new connection reaches the driver as it is now (recovered, or restarted).
        if (outcome.session === 'drop') this.dropSession(driverSession);
        if (outcome.retryable && !retried && remainingMs > 0) {
          retried = true;
          attempt = this.startCall(method, request, remainingMs, timeoutMs, settle);
          return;
        }
        signal?.removeEventListener('abort', onAbort);
        if (outcome.session === 'check') this.dropSessionUnlessPingAnswered(driverSession);
        if (outcome.result instanceof CsiCallError) reject(outcome.result);
        else resolve(outcome.result);
      };
      attempt = this.startCall(method, request, timeoutMs, timeoutMs, settle);
    });
  }

  /**
   * Never throws: it also runs from a stream's close event, where a throw would end the process.
   * `remainingMs` bounds this try; `limitMs` is the caller's whole limit, which a timeout names.
   */
  private startCall(method: string, request: Buffer, remainingMs: number, limitMs: number, settle: CallSettler): Http2UnaryCall | undefined {
    const driverSession = this.currentSession();
    const settleOnThisSession = (outcome: CallOutcome, call: Http2UnaryCall) => {
      this.callsInFlight.delete(call);
      settle(outcome, driverSession);
    };
    try {
      const call = new Http2UnaryCall(driverSession.session, this.address, method, request, { remainingMs, limitMs }, settleOnThisSession);
      this.callsInFlight.add(call);
      return call;
    } catch (err) {
      // currentSession() hands out only usable sessions, so this one has used up its stream identifiers: drop it.
      this.forget(driverSession, 'IDLE');
      driverSession.session.destroy();
      settle({ result: callNotStarted(this.address, err), retryable: false, session: 'keep' }, driverSession);
      return undefined;
    }
  }

  /** Stops using `driverSession` for new calls and closes it once its calls end. */
  private dropSession(driverSession: DriverSession): void {
    this.forget(driverSession, 'IDLE');
    driverSession.session.close();
  }

  dropConnection(): void {
    // The socket file was replaced or removed: an earlier dial's failure says nothing about the next dial
    // (a driver restarted within RECONNECT_MIN_INTERVAL_MS must be reached at once; found with the grpc-go driver).
    this.lastConnectFailure = undefined;
    const dropped = this.current;
    this.forget(dropped, 'IDLE');
    dropped?.session.close(); // calls in flight finish or meet their deadline, then the socket is closed
  }

  close(): void {
    for (const call of this.callsInFlight) call.cancel(cancelledByShutdown(call.method));
    const dropped = this.current;
    this.forget(dropped, 'SHUTDOWN');
    dropped?.session.destroy();
  }

  /**
   * After a call went unanswered until its deadline: a session whose peer does
   * not answer a PING within PING_TIMEOUT_MS is dead (a network path that
   * dropped without a reset, a frozen driver) and is replaced, so a driver that
   * comes back is reached instead of every later check timing out on it. A
   * driver that is merely slow answers the PING and keeps its session.
   */
  private dropSessionUnlessPingAnswered(driverSession: DriverSession): void {
    if (driverSession.pingInFlight || this.current !== driverSession) return;
    driverSession.pingInFlight = true;
    const dead = (): void => {
      clearTimeout(timer);
      driverSession.pingInFlight = false;
      this.forget(driverSession, 'IDLE');
      driverSession.session.destroy();
    };
    const timer = setTimeout(dead, PING_TIMEOUT_MS);
    driverSession.session.ping((err) => {
      if (err) return dead();
      clearTimeout(timer);
      driverSession.pingInFlight = false;
    });
  }

  private currentSession(): DriverSession {
    const current = this.current;
    // A session can be ended a moment before its socket's 'close' event has run.
    if (current && !current.session.usable) this.forget(current, 'IDLE');
    if (this.current) return this.current;
    let driverSession: DriverSession | undefined;
    const onread: OnReadOpts = {
      buffer: this.readBuffer,
      callback: (bytes, buffer) => {
        driverSession?.session.receive((buffer as Buffer).subarray(0, bytes));
        return true;
      },
    };
    const socket = this.address.tcp ? connect({ port: this.address.tcp.port, host: this.address.tcp.host, onread }) : connectUnixSocket(this.address.socketPath!, onread);
    const session = new Http2ClientSession(socket, {
      connected: () => {
        if (this.current !== driverSession) return;
        this.lastConnectFailure = undefined;
        this.setState('READY');
      },
      goaway: () => this.forget(driverSession, 'IDLE'), // the session ends once its streams have
      closed: (connectError) => this.onSessionClosed(driverSession!, connectError),
    });
    driverSession = new DriverSession(session);
    this.current = driverSession;
    this.setState('CONNECTING');
    return driverSession;
  }

  private onSessionClosed(driverSession: DriverSession, connectError: NodeJS.ErrnoException | undefined): void {
    if (this.current !== driverSession) return;
    if (!connectError) return this.forget(driverSession, 'IDLE');
    const err = connectError;
    const error = err.syscall === 'connect' && err.code ? connectFailed(this.address, err.code) : connectionSetupFailed(this.address, err.message, err.code);
    this.lastConnectFailure = { error, at: performance.now() };
    this.forget(driverSession, 'TRANSIENT_FAILURE');
  }

  /** Stops using a session for new calls; the state becomes `next` if it was the current one. */
  private forget(driverSession: DriverSession | undefined, next: ConnectivityStateName): void {
    if (!driverSession || this.current !== driverSession) return;
    this.current = undefined;
    this.setState(next);
  }

  private setState(next: ConnectivityStateName): void {
    const previous = this.currentState;
    if (previous === next || previous === 'SHUTDOWN') return;
    this.currentState = next;
    this.events.stateChanged(previous, next);
  }
}
