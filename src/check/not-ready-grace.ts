// What a Probe answer means for liveness and for readiness, and the opt-in
// grace (--not-ready-grace) for a driver that is still initializing.
//
// The CSI spec gives Probe three answers. An error: the plugin is unhealthy
// ("the CO MAY take action, e.g. restart the plugin"). Success with `ready`
// false: "the plugin is still initializing", healthy but not ready, and other
// calls may fail meanwhile. Success with `ready` true, or without the field:
// ready ("If not present, the caller SHALL assume that the plugin is in a
// ready state"). Upstream's /healthz treats `ready: false` as a failure, so a
// driver whose start-up outlasts the kubelet's failure threshold is restarted
// while it initializes, again and again. With a grace G, /healthz passes a
// not-ready driver for G after its not-ready stretch began, then fails as
// upstream; /readyz (readiness) never passes a not-ready driver.

import { formatGoDuration } from '../go/duration';

/** Upstream's /healthz body for a driver whose Probe says ready=false; also /readyz's. */
export const NOT_READY_REASON = 'driver responded but is not ready';

/** A successful Probe's answer, or its failure (a gRPC error, a timeout, no driver). */
export type ProbeAnswer = 'ready' | 'not-ready' | 'failed';

/**
 * A driver's not-ready stretch, as of one Probe: every Probe it answered
 * since the stretch began (the first `ready: false` after a ready answer, or
 * after the sidecar first reached this driver instance) said `ready: false`.
 * Failed calls neither begin nor end a stretch: only the driver's answers say
 * whether it is ready.
 */
export interface NotReadyStretch {
  /** Wall-clock time (ms since the epoch) the first not-ready Probe of the stretch was sent; for display. */
  readonly sinceEpochMs: number;
  /** How long the stretch had lasted when this Probe was sent (ms, monotonic clock); 0 for its first Probe. */
  readonly lastedMs: number;
}

/** A verdict on one route: whether it passes, and its body when it does not ("ok" when it does). */
export interface RouteVerdict {
  readonly passed: boolean;
  readonly reason: string;
}

const PASSED: RouteVerdict = { passed: true, reason: 'ok' };

/**
 * Follows the driver's not-ready stretches from Probe answers. A driver
 * instance that is not the one of the stretch (a restarted driver: a new
 * socket file, or a new TCP connection; CsiConnection.driverInstance) begins
 * a new one. Answers to Probes sent before the last answer recorded are
 * stale (concurrent calls answer out of order) and change nothing. A failed
 * call is no answer: it does not make an earlier Probe's answer stale (a call
 * cancelled when its client left, sent after a slower Probe, hid that Probe's
 * ready answer), unless it is the first to reach a new instance.
 */
export class NotReadyStretches {
  /** performance.now() when the first not-ready Probe of the current stretch was sent; undefined outside a stretch. */
  private sinceMs: number | undefined;
  /** Date.now() matching `sinceMs`. Invariant: defined if and only if `sinceMs` is. */
  private sinceEpochMs: number | undefined;
  /** The driver instance the last recorded answer came from. */
  private instance: number | undefined;
  /**
   * performance.now() when the Probe of the last recorded answer was sent (or
   * the first call to reach the current instance, failed or not).
   */
  private lastSentMs = -Infinity;

  /**
   * Records the outcome of a Probe sent at `sentMs` (performance.now()) to
   * driver instance `instance`, and returns the stretch as of that Probe
   * (undefined when the driver is not in a not-ready stretch).
   */
  record(answer: ProbeAnswer, sentMs: number, instance: number): NotReadyStretch | undefined {
    if (sentMs >= this.lastSentMs) {
      if (answer !== 'failed') this.lastSentMs = sentMs;
      if (instance !== this.instance) {
        // A restarted driver initializes anew: its grace is its own. The old one's late answers are stale.
        this.instance = instance;
        this.sinceMs = this.sinceEpochMs = undefined;
        this.lastSentMs = sentMs;
      }
      if (answer === 'ready') {
        this.sinceMs = this.sinceEpochMs = undefined;
      } else if (answer === 'not-ready' && this.sinceMs === undefined) {
        this.sinceMs = sentMs;
        this.sinceEpochMs = Date.now() - (performance.now() - sentMs);
      }
    }
    if (this.sinceMs === undefined || this.sinceEpochMs === undefined) return undefined;
    return { sinceEpochMs: this.sinceEpochMs, lastedMs: Math.max(0, sentMs - this.sinceMs) };
  }
}

/**
 * /readyz: passes only a driver that answered ready (`ready` true or absent);
 * `ready: false` fails with upstream's not-ready text, a failed call with its
 * own reason (`failureReason`, the text /healthz shows too).
 */
export function judgeReadiness(answer: ProbeAnswer, failureReason: string): RouteVerdict {
  if (answer === 'ready') return PASSED;
  return { passed: false, reason: answer === 'not-ready' ? NOT_READY_REASON : failureReason };
}

/**
 * /healthz: a ready driver passes, a failed call fails at once with its
 * reason (grace or not). `ready: false` fails as upstream when `graceMs` is 0;
 * with a grace it passes while the stretch has lasted less than `graceMs`,
 * then fails with a reason that says for how long the driver has not been
 * ready. `stretch` must be given for a not-ready answer.
 */
export function judgeLiveness(answer: ProbeAnswer, failureReason: string, stretch: NotReadyStretch | undefined, graceMs: number): RouteVerdict {
  if (answer !== 'not-ready') return judgeReadiness(answer, failureReason);
  if (graceMs === 0) return { passed: false, reason: NOT_READY_REASON };
  const lastedMs = stretch?.lastedMs ?? 0;
  if (lastedMs < graceMs) return PASSED;
  return { passed: false, reason: `${NOT_READY_REASON}: not ready for ${formatMillis(lastedMs)}, longer than --not-ready-grace=${formatGoDuration(graceMs)}` };
}

/** Milliseconds as a Go duration, rounded to the millisecond ("41.203s"). */
export function formatMillis(ms: number): string {
  return formatGoDuration(Math.round(ms));
}
