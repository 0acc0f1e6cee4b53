// The CSI Probe behind every verdict, shared by the requests that ask while it
// is young, and turned into a verdict with its reason. Knows nothing of HTTP:
// /healthz only displays it.
//
// Sharing keeps a slow or hung driver from piling up calls (upstream starts a
// Probe per request, so frequent probes against a slow driver stack up). But
// an answer is only worth sharing while it can still say something about the
// driver now: a request joins the call in flight only while that call is
// younger than JOIN_WINDOW_MS; otherwise it starts a call of its own, up to
// MAX_CALLS_IN_FLIGHT at once. A healthy answer to a call also answers the
// requests of older calls that joined them before it started: the driver has
// answered a Probe sent after they asked, so a call stuck from before a
// recovery fails nobody who could be told the driver is healthy now. A call
// that no connected request waits for any more is cancelled, as Go's net/http
// cancels a request's context when its client goes away (upstream's Probe runs
// under that context).

import { CsiConnection } from '../csi/connection';
import { probe } from '../csi/identity';
import { Logger } from '../log/logger';
import type { MetricsRecorder } from '../metrics/recorder';
import type { DriverDiscovery } from './driver-discovery';
import { CancelSignal, Cancellation } from '../cancel-signal';
import { formatGoDuration } from '../go/duration';
import { formatMillis, judgeLiveness, NOT_READY_REASON, NotReadyStretch, NotReadyStretches, ProbeAnswer, RouteVerdict } from './not-ready-grace';

export { NOT_READY_REASON } from './not-ready-grace';

/**
 * How young a call in flight must be for a new request to share its answer.
 * Below the kubelet's smallest periodSeconds (1 s), with room for timer
 * jitter, so two probes of one kubelet probe worker never share a call: each
 * gets a Probe of its own, as upstream gives it, and a call stuck in the
 * driver fails at most the probe that started it. Bursts from other clients
 * (a monitoring system, liveness and readiness probes at one instant) share.
 * Also half the kubelet's default and smallest timeoutSeconds (1 s): a joined
 * call has used at most half of the waiting request's time.
 */
export const JOIN_WINDOW_MS = 500;
/**
 * Calls in flight at once, a bound on memory and HTTP/2 streams (each call a
 * few hundred bytes and one stream), not on freshness: JOIN_WINDOW_MS already
 * limits new calls to two a second, and calls that only the kubelet waits for
 * are cancelled when it gives up, so this many are outstanding only after 32 s
 * of a hung driver with clients that wait longer than the kubelet. Past it, a
 * request joins the youngest call. (With 4, such clients kept every slot stuck
 * and the kubelet's probes joined stuck calls after the driver recovered.)
 */
export const MAX_CALLS_IN_FLIGHT = 64;

export interface CheckOutcome {
  /** The driver answered ready (`ready` true or absent): upstream's healthy check. */
  readonly healthy: boolean;
  /** What the Probe said: ready, not ready (healthy but initializing, in the CSI spec's words), or nothing (failed). */
  readonly answer: ProbeAnswer;
  /** "ok", the not-ready text, or the error text: upstream's /healthz body. */
  readonly reason: string;
  /** The /healthz verdict: `healthy`, or with --not-ready-grace a not-ready driver still within its grace. */
  readonly liveness: RouteVerdict;
  /** The driver's not-ready stretch as of this Probe; undefined when its last answer was ready (or none came yet). */
  readonly notReady: NotReadyStretch | undefined;
  readonly durationMs: number;
  /** When the check finished (ms since the epoch). */
  readonly finishedAt: number;
}

/**
 * One Probe in flight and the requests waiting for it. A class, not closures:
 * a call is made per check, and the allocations per check decide its CPU
 * (docs/performance.md).
 */
class CallInFlight {
  /** performance.now() when the last request joined (or started) it. */
  lastJoinedAt: number;
  /** What its requests get: its own Probe's outcome, or a newer call's healthy one. */
  readonly outcome: Promise<CheckOutcome>;
  private resolveOutcome!: (outcome: CheckOutcome) => void;
  readonly cancel = new Cancellation();
  /** Requests waiting whose client is still connected. */
  waiters = 0;
  /** The abort listeners of its waiters' clients, removed when it finishes (a keep-alive connection's signal outlives it). */
  goneListeners: [CancelSignal, () => void][] | undefined;
  /** Set while a cancel waits for the call to leave its join window. */
  cancelTimer: NodeJS.Timeout | undefined;

  /** `startedAt`: performance.now() when the Probe was sent. */
  constructor(readonly startedAt: number) {
    this.lastJoinedAt = startedAt;
    this.outcome = new Promise<CheckOutcome>((resolve) => (this.resolveOutcome = resolve));
  }

  /** Answers its requests and lets go of their clients. Invariant: called once, as the call leaves the calls in flight. */
  finish(outcome: CheckOutcome): void {
    clearTimeout(this.cancelTimer);
    if (this.goneListeners) for (const [signal, onGone] of this.goneListeners) signal.removeEventListener('abort', onGone);
    this.resolveOutcome(outcome);
  }
}

export class SharedHealthCheck {
  /** Invariant: the calls not yet settled, oldest first; at most MAX_CALLS_IN_FLIGHT. */
  private readonly calls: CallInFlight[] = [];
  /** The last finished check: of the checks finished, the one started last. */
  lastOutcome: CheckOutcome | undefined;
  private lastOutcomeStartedAt = -Infinity;
  /** performance.now() when `lastOutcome` was recorded. */
  private lastOutcomeRecordedAt = -Infinity;
  private readonly notReadyStretches = new NotReadyStretches();

  /** `notReadyGraceMs`: --not-ready-grace in milliseconds; 0 fails `ready: false` at once, as upstream. */
  constructor(
    private readonly connection: CsiConnection,
    private readonly discovery: DriverDiscovery,
    private readonly probeTimeoutMs: number,
    private readonly logger: Logger,
    private readonly metrics: MetricsRecorder | undefined,
    readonly notReadyGraceMs = 0,
  ) {}

  /**
   * Runs a check, or joins the youngest one in flight while it is young enough
   * (see JOIN_WINDOW_MS). `clientGone` aborts when the asking client has gone
   * (closed or half-closed its connection); a call nobody waits for any more is
   * then cancelled, once it has left its join window. Never rejects.
   */
  run(clientGone?: CancelSignal): Promise<CheckOutcome> {
    const now = performance.now();
    let call = this.joinableCall(now);
    if (call) this.metrics?.checkShared();
    else call = this.startCall(now);
    call.lastJoinedAt = now;
    call.waiters++;
    if (clientGone) {
      if (clientGone.aborted) {
        this.abandon(call);
      } else {
        const onGone = () => this.abandon(call);
        clientGone.addEventListener('abort', onGone);
        (call.goneListeners ??= []).push([clientGone, onGone]);
      }
    }
    return call.outcome;
  }

  /**
   * The last finished check if it finished less than `maxAgeMs` ago
   * (monotonic clock), else undefined. Starts nothing: for a request that
   * should not wait (see RequestConditions.budgetPressed in src/http/).
   */
  recentOutcome(maxAgeMs: number): CheckOutcome | undefined {
    return performance.now() - this.lastOutcomeRecordedAt < maxAgeMs ? this.lastOutcome : undefined;
  }

  /**
   * Starts a check unless one is in flight that a request would join (see
   * run()), so that recentOutcome() keeps finding one while requests are
   * answered without waiting. Nobody waits for it, and no client's leaving
   * cancels it: it is counted as a waiter that never leaves.
   */
  refresh(): void {
    const now = performance.now();
    if (!this.joinableCall(now)) this.startCall(now).waiters++;
  }

  /** The call a request arriving `now` joins: the youngest, while it is in its join window or no new one may start. */
  private joinableCall(now: number): CallInFlight | undefined {
    const youngest = this.calls.at(-1);
    return youngest && (now - youngest.startedAt < JOIN_WINDOW_MS || this.calls.length >= MAX_CALLS_IN_FLIGHT) ? youngest : undefined;
  }

  /** Resolves when every check in flight has finished. */
  async settled(): Promise<void> {
    await Promise.all(this.calls.map((call) => call.outcome));
  }

  private startCall(startedAt: number): CallInFlight {
    const call = new CallInFlight(startedAt);
    this.calls.push(call);
    void this.probeAndAnswer(call);
    return call;
  }

  /** `call` leaves the calls in flight, its requests answered with `outcome`. */
  private finish(call: CallInFlight, outcome: CheckOutcome): void {
    removeCall(this.calls, call);
    call.finish(outcome);
  }

  /** A call's own Probe ended: its requests get the outcome, and a healthy one answers older calls' requests too. */
  private onProbeAnswered(call: CallInFlight, outcome: CheckOutcome): void {
    if (!this.calls.includes(call)) return; // already answered by a newer call, then cancelled
    this.finish(call, outcome);
    if (call.cancel.aborted) return;
    if (call.startedAt > this.lastOutcomeStartedAt) {
      this.lastOutcome = outcome;
      this.lastOutcomeStartedAt = call.startedAt;
      this.lastOutcomeRecordedAt = performance.now();
      this.metrics?.checkCompleted(outcome.liveness.passed);
      if (outcome.answer !== 'failed') this.metrics?.driverReadyAnswered(outcome.healthy);
    }
    if (!outcome.healthy || this.calls.length === 0) return; // an older call may still be answered: its requests wait for their own answer
    for (const older of this.calls.filter((c) => c.lastJoinedAt <= call.startedAt)) {
      this.finish(older, outcome);
      older.cancel.abort();
    }
  }

  /**
   * A waiting client went away. With nobody left, the call is cancelled, but
   * not before it leaves its join window: a request arriving meanwhile may
   * still want it, and a client that only half-closed still gets a fast answer.
   */
  private abandon(call: CallInFlight): void {
    call.waiters--;
    if (call.waiters > 0 || call.cancel.aborted || call.cancelTimer) return;
    const ageMs = performance.now() - call.startedAt;
    const cancelIfStillUnwanted = () => {
      call.cancelTimer = undefined;
      if (call.waiters === 0) call.cancel.abort();
    };
    if (ageMs >= JOIN_WINDOW_MS) cancelIfStillUnwanted();
    else call.cancelTimer = setTimeout(cancelIfStillUnwanted, JOIN_WINDOW_MS - ageMs);
  }

  /** Sends the call's Probe and hands its outcome on. Never rejects: a misbehaving driver is a failed check with its reason. */
  private async probeAndAnswer(call: CallInFlight): Promise<void> {
    if (this.logger.enabled(5)) this.logger.infoAt(5, 'Sending probe request to CSI driver', { driver: this.discovery.driverName });
    let answer: ProbeAnswer = 'failed';
    let reason: string;
    try {
      answer = (await probe(this.connection, this.probeTimeoutMs, call.cancel)) ? 'ready' : 'not-ready';
      reason = answer === 'ready' ? 'ok' : NOT_READY_REASON;
    } catch (err) {
      reason = err instanceof Error ? err.message : String(err);
      if (call.cancel.aborted) this.logger.infoAt(4, 'Health check cancelled: no client waits for it', { err: reason });
      else this.logger.error(reason, 'Health check failed');
    }
    // Read once the answer is in: the instance it came from (a new connection is made during the call).
    const notReady = this.notReadyStretches.record(answer, call.startedAt, this.connection.driverInstance);
    const liveness = judgeLiveness(answer, reason, notReady, this.notReadyGraceMs);
    if (answer === 'ready' && this.logger.enabled(5)) this.logger.infoAt(5, 'Health check succeeded');
    if (answer === 'not-ready') this.logNotReady(liveness, notReady);
    const outcome: CheckOutcome = {
      healthy: answer === 'ready',
      answer,
      reason,
      liveness,
      notReady,
      durationMs: performance.now() - call.startedAt,
      finishedAt: Date.now(),
    };
    this.onProbeAnswered(call, outcome);
  }

  /** Upstream's error line for `ready: false`; within a grace a warning instead, saying how long is left. */
  private logNotReady(liveness: RouteVerdict, notReady: NotReadyStretch | undefined): void {
    if (this.notReadyGraceMs === 0) {
      this.logger.error(undefined, 'Driver responded but is not ready');
      return;
    }
    const fields = { notReadyFor: formatMillis(notReady?.lastedMs ?? 0), notReadyGrace: formatGoDuration(this.notReadyGraceMs) };
    if (liveness.passed) this.logger.warning('Driver responded but is not ready; /healthz passes within --not-ready-grace', fields);
    else this.logger.error(undefined, 'Driver responded but is not ready, for longer than --not-ready-grace', fields);
  }
}

/** Removes `call` from `calls`, keeping the order, without the array splice() returns or the cost of shift(). */
function removeCall(calls: CallInFlight[], call: CallInFlight): void {
  const at = calls.indexOf(call);
  if (at < 0) return;
  for (let i = at; i < calls.length - 1; i++) calls[i] = calls[i + 1];
  calls.pop();
}
