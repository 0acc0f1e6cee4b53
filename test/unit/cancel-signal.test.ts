// Cancellation keeps AbortSignal's behaviour for the part of it the sidecar uses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CancelSignal, Cancellation } from '../../src/cancel-signal';

/** What each kind of signal does with the same listeners: the calls they get, in order. */
function exercise(signal: CancelSignal, abort: () => void): string[] {
  const calls: string[] = [];
  const a = () => calls.push('a');
  const b = () => calls.push('b');
  const c = () => calls.push('c');
  const d = () => calls.push('d');
  signal.addEventListener('abort', a);
  signal.addEventListener('abort', b);
  signal.addEventListener('abort', c);
  signal.removeEventListener('abort', a); // the first one
  signal.removeEventListener('abort', c); // a later one
  signal.addEventListener('abort', d);
  calls.push(`aborted before: ${signal.aborted}`);
  abort();
  abort();
  calls.push(`aborted after: ${signal.aborted}`);
  signal.addEventListener('abort', a); // already aborted: never called
  return calls;
}

test('Cancellation: listeners once, in the order added, removed ones not, none after the abort; as AbortSignal', () => {
  const cancellation = new Cancellation();
  const ours = exercise(cancellation, () => cancellation.abort());
  const controller = new AbortController();
  const standard = exercise(controller.signal, () => controller.abort());
  assert.deepEqual(ours, ['aborted before: false', 'b', 'd', 'aborted after: true']);
  assert.deepEqual(ours, standard);
});

test('Cancellation: a listener removed while it is the only one leaves none', () => {
  const cancellation = new Cancellation();
  let called = 0;
  const listener = () => called++;
  cancellation.addEventListener('abort', listener);
  cancellation.removeEventListener('abort', listener);
  cancellation.removeEventListener('abort', listener);
  cancellation.abort();
  assert.equal(called, 0);
});

test('Cancellation: a listener added twice is called once; one removed by another while aborting is not called; as AbortSignal', () => {
  const run = (signal: CancelSignal, abort: () => void): string[] => {
    const calls: string[] = [];
    const twice = () => calls.push('twice');
    const later = () => calls.push('later');
    const remover = () => {
      calls.push('remover');
      signal.removeEventListener('abort', later);
    };
    signal.addEventListener('abort', twice);
    signal.addEventListener('abort', twice);
    signal.addEventListener('abort', remover);
    signal.addEventListener('abort', later);
    abort();
    return calls;
  };
  const cancellation = new Cancellation();
  const controller = new AbortController();
  const ours = run(cancellation, () => cancellation.abort());
  assert.deepEqual(ours, ['twice', 'remover']);
  assert.deepEqual(ours, run(controller.signal, () => controller.abort()));
});
