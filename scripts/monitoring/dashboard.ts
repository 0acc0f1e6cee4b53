// The Grafana dashboard for csi-livenessprobe-ts, built as code with
// @grafana/grafana-foundation-sdk; generate.ts writes it to
// deploy/monitoring/dashboard.json. Rows: health and readiness by driver and node, Probe
// latency, errors by code, connections, the sidecar's CPU and memory.

import { DashboardBuilder, DatasourceVariableBuilder, QueryVariableBuilder, RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { JOB_MATCHER } from './alert-rules';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** Every query's selector: the chosen drivers' and nodes' pods. The node label comes from the PodMonitor. */
const POD_SELECTOR = 'namespace=~"$namespace", pod=~"$pod"';
const PROBE = 'method_name="/csi.v1.Identity/Probe"';

const query = (expr: string, legend: string) => new DataqueryBuilder().datasource(DATASOURCE).expr(expr).legendFormat(legend);

const timeseries = (title: string, unit: string, description: string, ...targets: DataqueryBuilder[]) => {
  const panel = new TimeseriesPanelBuilder().title(title).description(description).unit(unit).datasource(DATASOURCE).height(8).span(12);
  for (const target of targets) panel.withTarget(target);
  return panel;
};

/** A multi-select variable over the label values `valuesQuery` returns; "All" matches everything. */
const multiSelect = (name: string, label: string, valuesQuery: string) =>
  new QueryVariableBuilder(name).label(label).datasource(DATASOURCE).query(valuesQuery).multi(true).includeAll(true).allValue('.*');

/** A driver's pods: namespace and pod names of the operations series with that driver_name, on those nodes. */
const variables = [
  new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
  multiSelect('driver', 'Driver', 'label_values(csi_sidecar_operations_seconds_count, driver_name)'),
  multiSelect('node', 'Node', 'label_values(csi_sidecar_operations_seconds_count{driver_name=~"$driver"}, node)'),
  multiSelect('namespace', 'Namespace', 'label_values(csi_sidecar_operations_seconds_count{driver_name=~"$driver", node=~"$node"}, namespace)'),
  multiSelect('pod', 'Pod', 'label_values(csi_sidecar_operations_seconds_count{driver_name=~"$driver", node=~"$node", namespace=~"$namespace"}, pod)'),
];

export function buildDashboard() {
  const dashboard = new DashboardBuilder('CSI liveness probe')
    .uid('csi-livenessprobe-ts')
    .description('Health of CSI drivers as csi-livenessprobe-ts sees them, by driver and node, and what the sidecar costs.')
    .tags(['csi', 'storage', 'kubernetes'])
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser');
  for (const variable of variables) dashboard.withVariable(variable);

  dashboard
    .withRow(new RowBuilder('Health by driver and node'))
    .withPanel(
      new StatPanelBuilder()
        .title('Failing drivers')
        .description('Pods whose last check failed (csi_livenessprobe_last_check_success = 0).')
        .datasource(DATASOURCE)
        .height(8)
        .span(6)
        .withTarget(query(`count(csi_livenessprobe_last_check_success{${POD_SELECTOR}} == 0) or vector(0)`, 'failing')),
    )
    .withPanel(
      timeseries(
        'Last check result',
        'short',
        '1 healthy, 0 failed, per pod (node in the legend).',
        query(`max by (namespace, pod, node) (csi_livenessprobe_last_check_success{${POD_SELECTOR}})`, '{{node}} {{pod}}'),
      ).span(18),
    )
    .withPanel(
      timeseries(
        '/healthz answers by status',
        'reqps',
        'What the kubelet (and anyone else) was told: 200 healthy, 500 failing.',
        query(`sum by (code) (rate(csi_livenessprobe_healthz_requests_total{${POD_SELECTOR}}[$__rate_interval]))`, '{{code}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Time since the last healthy check',
        's',
        'Seconds since each pod last saw its driver healthy.',
        query(`time() - max by (namespace, pod, node) (csi_livenessprobe_last_success_timestamp_seconds{${POD_SELECTOR}} > 0)`, '{{node}} {{pod}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Driver readiness',
        'short',
        "The driver's last Probe answer per pod (CSI spec ready): 1 ready, 0 not ready (still initializing); what /readyz answers.",
        query(`max by (namespace, pod, node) (csi_livenessprobe_driver_ready{${POD_SELECTOR}})`, '{{node}} {{pod}}'),
      ).span(24),
    )
    .withRow(new RowBuilder('Probe latency and errors'))
    .withPanel(
      timeseries(
        'Probe latency',
        's',
        'Percentiles of Identity.Probe latency, from the operations histogram.',
        ...[0.5, 0.9, 0.99].map((quantile) =>
          query(
            `histogram_quantile(${quantile}, sum by (le) (rate(csi_sidecar_operations_seconds_bucket{${PROBE}, driver_name=~"$driver", ${POD_SELECTOR}}[$__rate_interval])))`,
            `p${quantile * 100}`,
          ),
        ),
      ),
    )
    .withPanel(
      timeseries(
        'Probe errors by gRPC code',
        'ops',
        'Failed Probe calls per second by code; unknown-non-grpc: refused before gRPC (socket gone).',
        query(
          `sum by (grpc_status_code) (rate(csi_sidecar_operations_seconds_count{${PROBE}, grpc_status_code!="OK", driver_name=~"$driver", ${POD_SELECTOR}}[$__rate_interval]))`,
          '{{grpc_status_code}}',
        ),
      ),
    )
    .withRow(new RowBuilder('Connections'))
    .withPanel(
      timeseries(
        'Reconnections to the driver',
        'short',
        'Connections that became READY, per pod: more than one means the driver restarted or dropped the connection.',
        query(`sum by (namespace, pod, node) (increase(csi_livenessprobe_connection_transitions_total{to="READY", ${POD_SELECTOR}}[$__rate_interval]))`, '{{node}} {{pod}}'),
      ),
    )
    .withPanel(
      timeseries(
        'HTTP connections shed',
        'ops',
        'Connections the sidecar closed early to keep its budget, by reason: a sign of clients misbehaving on the port.',
        query(`sum by (reason) (rate(csi_livenessprobe_http_connections_shed_total{${POD_SELECTOR}}[$__rate_interval]))`, '{{reason}}'),
      ),
    )
    .withRow(new RowBuilder('Sidecar resources'))
    .withPanel(
      timeseries(
        'Sidecar CPU',
        'percentunit',
        'CPU time of the sidecar process per second, per pod.',
        query(`max by (namespace, pod, node) (rate(process_cpu_seconds_total{${POD_SELECTOR}, ${JOB_MATCHER}}[$__rate_interval]))`, '{{node}} {{pod}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Sidecar memory',
        'bytes',
        'Resident memory of the sidecar process, per pod.',
        query(`max by (namespace, pod, node) (process_resident_memory_bytes{${POD_SELECTOR}, ${JOB_MATCHER}})`, '{{node}} {{pod}}'),
      ),
    );
  return dashboard.build();
}
