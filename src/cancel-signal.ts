// Cancellation for the work of one request: a client gone, a check nobody
// waits for. AbortController is the standard, but its signal is an
// EventTarget: on Node 24 an AbortController with one listener added and
// removed leaves 998 bytes of garbage (this class: 48), and each /healthz
// request made one (its check's) and added a listener to another (its
// client's). Garbage per request is what drives the sidecar's CPU per check
// (a young collection every megabyte wakes V8's helper threads; README,
// "Performance"). Written by hand for that measured figure; it keeps
// AbortSignal's shape, so code that takes a CancelSignal takes an AbortSignal.

/** What cancellable work reads: the part of AbortSignal it uses (an AbortSignal is one). */
export interface CancelSignal {
  readonly aborted: boolean;
  /** Calls `listener` once, when the signal aborts; never if it already has. */
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** An AbortController and its signal in one object, without EventTarget. */
export class Cancellation implements CancelSignal {
  aborted = false;
  /** Invariant: undefined once aborted. The usual case is one listener, kept without an array. */
  private first: (() => void) | undefined;
  private more: (() => void)[] | undefined;

  /** Aborts: calls every listener once, in the order they were added. Later calls do nothing. */
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const first = this.first;
    const more = this.more;
    this.first = undefined;
    this.more = undefined;
    first?.();
    if (more) for (const listener of more) listener();
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    if (!this.first && !this.more?.length) this.first = listener;
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
