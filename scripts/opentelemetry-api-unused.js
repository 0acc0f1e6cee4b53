// Bundled in place of @opentelemetry/api (scripts/bundle.ts). prom-client's
// process CPU series require that API at load, but call it only to label
// exemplars, which the sidecar never enables; the real module (63 KB of the
// bundle) cost 0.2-0.4 MiB of idle RSS in every pod (docs/performance.md).
// Any use is a bug, said at once rather than answered with a silent no-op.
'use strict';

function unused() {
  throw new Error('csi-livenessprobe-ts bundles no OpenTelemetry API: prom-client asked for it, which it does only for exemplars, and the sidecar enables none');
}

module.exports = {
  get trace() {
    return unused();
  },
  get context() {
    return unused();
  },
};
