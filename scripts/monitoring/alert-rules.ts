// The alerting rules for csi-livenessprobe-ts, in one place: generate.ts
// writes them as a prometheus-operator PrometheusRule and as a plain
// Prometheus rules file (deploy/monitoring/), and test/monitoring/ holds
// promtool unit tests for each alert.
//
// Every alert names the pod; those about the driver also name it, joined from
// the operations histogram, the one series upstream labels with driver_name.

/** The scrape job: the PodMonitor's ("<namespace>/csi-livenessprobe") or the plain scrape config's. */
export const JOB_MATCHER = 'job=~"(.+/)?csi-livenessprobe"';

/**
 * Each pod's driver name as a 1-valued series: the name GetPluginInfo gave, or "unknown-driver" (upstream's
 * label for calls made before it) for a pod whose driver never answered.
 */
const DRIVER_OF_POD =
  '(0 * (max by (namespace, pod, driver_name) (csi_sidecar_operations_seconds_count{driver_name!="unknown-driver"})' +
  ' or on (namespace, pod) max by (namespace, pod, driver_name) (csi_sidecar_operations_seconds_count{driver_name="unknown-driver"})) + 1)';

/** Adds driver_name to a per-pod vector, keeping its value. */
const withDriverName = (expr: string) => `(${expr}) * on (namespace, pod) group_left (driver_name) ${DRIVER_OF_POD}`;

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: { readonly severity: 'critical' | 'warning' };
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

/**
 * Where docs/monitoring.md says what to do about an alert: a link relative to the repository's root (the
 * project is deployed from many mirrors), `docs/monitoring.md#<the alert's heading>`, which the docs test
 * resolves. Alertmanager templates and runbook tooling read `runbook_url`; prefix it with your mirror's
 * address (e.g. in the Alertmanager template) to make it clickable.
 */
const runbook = (alert: string) => `docs/monitoring.md#${alert.toLowerCase()}`;

export const ALERT_RULES: readonly AlertRule[] = [
  {
    alert: 'CSIDriverUnhealthy',
    // Sustained: one failed check (a driver busy for a moment) must not page; `for` needs every scrape to say 0.
    expr: withDriverName('csi_livenessprobe_last_check_success == 0'),
    for: '3m',
    labels: { severity: 'critical' },
    annotations: {
      summary: 'CSI driver {{ $labels.driver_name }} fails its health checks',
      description:
        'Every health check of CSI driver {{ $labels.driver_name }} in pod {{ $labels.namespace }}/{{ $labels.pod }} has failed for 3 minutes; the kubelet restarts the driver container. /healthz?verbose on the pod says why.',
      runbook_url: runbook('CSIDriverUnhealthy'),
    },
  },
  {
    alert: 'CSIDriverNotReady',
    // The CSI spec's "healthy but still initializing": normal for a while after a start, worth a look when it lasts.
    // Errors leave the gauge as it was, so a driver that fails and is not ready in turn keeps it at 0.
    expr: withDriverName('csi_livenessprobe_driver_ready == 0'),
    for: '10m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'CSI driver {{ $labels.driver_name }} is not ready',
      description:
        'CSI driver {{ $labels.driver_name }} in pod {{ $labels.namespace }}/{{ $labels.pod }} last answered Probe with ready: false (still initializing) and has not answered ready: true for 10 minutes; its other CSI calls may fail meanwhile. Failed calls leave the last answer as it was, so a driver gone since then keeps this firing: see CSIDriverUnhealthy. /readyz?verbose on the pod says for how long.',
      runbook_url: runbook('CSIDriverNotReady'),
    },
  },
  {
    alert: 'CSIDriverFlapping',
    expr: withDriverName('changes(csi_livenessprobe_last_check_success[15m]) >= 4'),
    for: '0m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'CSI driver {{ $labels.driver_name }} switches between healthy and failing',
      description:
        'The health of CSI driver {{ $labels.driver_name }} in pod {{ $labels.namespace }}/{{ $labels.pod }} changed {{ $value }} times in 15 minutes.',
      runbook_url: runbook('CSIDriverFlapping'),
    },
  },
  {
    alert: 'CSIDriverReconnecting',
    expr: withDriverName('increase(csi_livenessprobe_connection_transitions_total{to="READY"}[15m]) >= 3'),
    for: '0m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'The sidecar keeps reconnecting to CSI driver {{ $labels.driver_name }}',
      description:
        'The liveness probe in pod {{ $labels.namespace }}/{{ $labels.pod }} connected to CSI driver {{ $labels.driver_name }} {{ $value | humanize }} times in 15 minutes: the driver restarts or drops its connections.',
      runbook_url: runbook('CSIDriverReconnecting'),
    },
  },
  {
    alert: 'CSIProbeSlow',
    // A third of the default --probe-timeout (3s): a driver this slow is one hiccup away from failed checks.
    expr: 'histogram_quantile(0.9, sum by (namespace, pod, driver_name, le) (rate(csi_sidecar_operations_seconds_bucket{method_name="/csi.v1.Identity/Probe"}[10m]))) > 1',
    for: '10m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'CSI driver {{ $labels.driver_name }} answers Probe slowly',
      description:
        'The 90th percentile of Probe latency of CSI driver {{ $labels.driver_name }} in pod {{ $labels.namespace }}/{{ $labels.pod }} is {{ $value | humanizeDuration }} (over 1s, a third of the default --probe-timeout).',
      runbook_url: runbook('CSIProbeSlow'),
    },
  },
  {
    alert: 'CSIProbeErrors',
    expr: 'sum by (namespace, pod, driver_name, grpc_status_code) (increase(csi_sidecar_operations_seconds_count{method_name="/csi.v1.Identity/Probe", grpc_status_code!="OK"}[10m])) >= 5',
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'CSI driver {{ $labels.driver_name }} answers Probe with {{ $labels.grpc_status_code }}',
      description:
        'Probe calls to CSI driver {{ $labels.driver_name }} in pod {{ $labels.namespace }}/{{ $labels.pod }} failed with {{ $labels.grpc_status_code }} {{ $value | humanize }} times in 10 minutes.',
      runbook_url: runbook('CSIProbeErrors'),
    },
  },
  {
    alert: 'CSILivenessProbeDown',
    expr: `up{${JOB_MATCHER}} == 0`,
    for: '5m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'Prometheus cannot scrape the CSI liveness probe in {{ $labels.namespace }}/{{ $labels.pod }}',
      description:
        'Scrapes of the liveness probe sidecar in pod {{ $labels.namespace }}/{{ $labels.pod }} have failed for 5 minutes: the sidecar is down, or its port is not reachable from Prometheus; the health of the driver is not known.',
      runbook_url: runbook('CSILivenessProbeDown'),
    },
  },
  {
    alert: 'CSILivenessProbeNotScraped',
    expr: `absent(up{${JOB_MATCHER}})`,
    for: '15m',
    labels: { severity: 'warning' },
    annotations: {
      summary: 'No CSI liveness probe is being scraped',
      description: 'Prometheus has no target of the csi-livenessprobe job: the PodMonitor or scrape config does not select the CSI pods.',
      runbook_url: runbook('CSILivenessProbeNotScraped'),
    },
  },
];
