// Cancellation for the work of one request: a client gone, a check nobody
// waits for. AbortController is the standard, but its signal is an
// EventTarget: on Node 24 an AbortController with one listener added and
// removed leaves 998 bytes of garbage (this class: 48), and each /healthz
// request made one (its check's) and added a listener to another (its
// client's). Garbage per request is what drives the sidecar's CPU per check
// (a young collection every megabyte wakes V8's helper threads;
// docs/performance.md, "CPU per check and garbage"). Written by hand for that measured figure; it keeps
// AbortSignal's shape, so code that takes a CancelSignal takes an AbortSignal.

/** What cancellable work reads: the part of AbortSignal it uses (an AbortSignal is one). */
export interface CancelSignal {
  readonly aborted: boolean;
  /** Calls `listener` once, when the signal aborts; never if it already has. */
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * An AbortController and its signal in one object, without EventTarget. As
 * AbortSignal: a listener added twice is called once, one removed (even by
 * another listener while abort() runs) is not called, none is called when
 * added after the abort. Unlike it: a listener added while abort() runs is
 * not called (Node's calls it), and one that throws ends abort() with its
 * error instead of being reported as uncaught; the sidecar's listeners only
 * set state.
 */
export class Cancellation implements CancelSignal {
  aborted = false;
  /** The first listener not yet called, kept without an array (the usual case is one). Invariant: undefined once aborted. */
  private first: (() => void) | undefined;
  /** The listeners after `first`, in the order they were added. Invariant: empty or undefined once aborted. */
  private more: (() => void)[] | undefined;

  /** Aborts: calls every listener once, in the order they were added. Later calls do nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (;;) {
      const listener = this.first ?? this.more?.shift();
      if (listener === undefined) return;
      if (listener === this.first) this.first = undefined;
      listener();
    }
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted || this.first === listener || this.more?.includes(listener)) return;
    if (this.first === undefined && !this.more?.length) this.first = listener;
    else (this.more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.first === listener) {
      this.first = this.more?.shift();
      return;
    }
    const at = this.more?.indexOf(listener) ?? -1;
    if (at >= 0) this.more!.splice(at, 1);
  }
}
