// deploy/monitoring/ (issue #14): the generated files are what their sources
// generate, byte for byte; the objects pass the prometheus-operator schemas;
// promtool checks the rules and runs their unit tests; and every dashboard
// query is run by promtool against the series a real sidecar exports.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { generatedMonitoringFiles, MONITORING_DIR } from '../../scripts/monitoring/generate';
import { parseExposition } from '../helpers/exposition';
import { startDriverAndSidecar } from '../helpers/pair';
import { REPO_ROOT } from '../helpers/image';
import { podMonitorEndpoint, servesMetricsAt } from '../helpers/metrics-endpoint';
import { makeTempDir } from '../helpers/tmp';

const PROMTOOL = 'promtool';
const run = promisify(execFile);

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(PROMTOOL, args);
    return stdout + stderr;
  } catch (err) {
    const failure = err as { stdout?: string; stderr?: string; message: string };
    assert.fail(`promtool ${args.join(' ')} failed:\n${failure.stdout ?? ''}${failure.stderr ?? failure.message}`);
  }
}

const readDeployed = (name: string) => fs.readFileSync(path.join(MONITORING_DIR, name), 'utf8');

test('deploy/monitoring/ is what `npm run monitoring` generates, byte for byte', () => {
  for (const [name, content] of generatedMonitoringFiles()) assert.equal(readDeployed(name), content, `${name} is stale: run npm run monitoring`);
});

test('PodMonitor and PrometheusRule pass the prometheus-operator schemas', async () => {
  const { PodMonitor } = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor');
  const { PrometheusRule } = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule');
  const podMonitor = parse(readDeployed('pod-monitor.yaml'));
  new PodMonitor(podMonitor).validate();
  new PrometheusRule(parse(readDeployed('prometheus-rule.yaml'))).validate();
  // The port it scrapes is the one the example pods serve the sidecar on.
  const daemonSet = parse(fs.readFileSync(path.join(REPO_ROOT, 'deploy', 'kubernetes', 'csi-node-daemonset.yaml'), 'utf8'));
  const ports = daemonSet.spec.template.spec.containers.flatMap((container: { ports?: { name: string }[] }) => container.ports ?? []).map((port: { name: string }) => port.name);
  assert.ok(ports.includes(podMonitor.spec.podMetricsEndpoints[0].port));
  assert.ok(podMonitor.spec.selector.matchExpressions[0].values.includes(daemonSet.metadata.labels['app.kubernetes.io/name']));
});

interface Workload {
  readonly kind: string;
  readonly metadata: { readonly name: string };
  readonly spec?: { readonly template?: { readonly metadata: { readonly labels: Record<string, string> }; readonly spec: { readonly containers: readonly ManifestContainer[] } } };
}
interface ManifestContainer {
  readonly name: string;
  readonly image: string;
  readonly args?: string[];
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[];
}

test('issue #35: every example pod the PodMonitor selects serves metrics on the port and path it scrapes', () => {
  const podMonitor = parse(readDeployed('pod-monitor.yaml')) as { spec: { selector: { matchExpressions: { key: string; operator: string; values: string[] }[] } } };
  const selects = (labels: Record<string, string>) =>
    podMonitor.spec.selector.matchExpressions.every(({ key, operator, values }) => {
      assert.equal(operator, 'In', 'only In is read here');
      return values.includes(labels[key]);
    });
  const endpoint = podMonitorEndpoint();
  const manifestDir = path.join(REPO_ROOT, 'deploy', 'kubernetes');
  const workloads = fs
    .readdirSync(manifestDir)
    .filter((name) => name.endsWith('.yaml'))
    .flatMap((name) => parseAllDocuments(fs.readFileSync(path.join(manifestDir, name), 'utf8')).map((document) => document.toJS() as Workload))
    .filter((object) => object.spec?.template && selects(object.spec.template.metadata.labels));
  assert.equal(workloads.length, 2, 'the PodMonitor selects both example workloads');
  for (const { kind, metadata, spec } of workloads) {
    const containers = spec!.template!.spec.containers;
    const port = containers.flatMap((container) => container.ports ?? []).find((p) => p.name === endpoint.port);
    assert.ok(port, `${kind} ${metadata.name}: no port named ${endpoint.port}`);
    const sidecar = containers.find((container) => /\/csi-livenessprobe-ts:/.test(container.image));
    assert.ok(sidecar, `${kind} ${metadata.name}: no csi-livenessprobe-ts container`);
    const problem = servesMetricsAt(sidecar.args ?? [], port.containerPort, endpoint.path);
    assert.equal(problem, undefined, `${kind} ${metadata.name}: ${problem}`);
  }
  // The check catches what the README's snippet once passed: --health-port alone serves /healthz and no metrics.
  assert.match(servesMetricsAt(['--csi-address=/csi/csi.sock', '--health-port=9808'], 9808, endpoint.path)!, /no metrics on port 9808/);
  assert.equal(servesMetricsAt(['--csi-address=/csi/csi.sock', '--health-port=9808', '--metrics-address=:9809'], 9809, endpoint.path), undefined);
});

test('promtool: the rules check, both files hold the same groups, and every alert unit test passes', async (t) => {
  const rulesFile = path.join(MONITORING_DIR, 'alert-rules.yaml');
  assert.match(await promtool('check', 'rules', rulesFile), /SUCCESS: 8 rules found/);
  const operatorGroups = parse(readDeployed('prometheus-rule.yaml')).spec.groups;
  assert.deepEqual(operatorGroups, parse(readDeployed('alert-rules.yaml')).groups);
  const extracted = path.join(makeTempDir(t), 'operator-rules.yaml');
  fs.writeFileSync(extracted, stringify({ groups: operatorGroups }));
  assert.match(await promtool('check', 'rules', extracted), /SUCCESS/);
  assert.match(await promtool('test', 'rules', path.join(REPO_ROOT, 'test', 'monitoring', 'alert-rules.test.yaml')), /SUCCESS/);
});

interface Panel {
  readonly title?: string;
  readonly type: string;
  readonly targets?: { readonly expr: string }[];
}

test('every dashboard query returns data from the series a real sidecar exports (promtool)', { timeout: 60_000 }, async (t) => {
  // A sidecar that has seen a healthy driver, a failing one and a reconnection, as on a live node.
  const { sidecar, driver } = await startDriverAndSidecar(t, { driverArgs: ['--probe-error-message', 'broken'] });
  assert.equal((await sidecar.request()).status, 200);
  await driver.set({ probeError: 'UNAVAILABLE' });
  assert.equal((await sidecar.request()).status, 500);
  const exposition = parseExposition((await sidecar.request('/metrics')).body);

  // What Prometheus would store: each exported series with the target labels the PodMonitor adds, rising.
  const targetLabels = 'job="kube-system/csi-livenessprobe", namespace="kube-system", pod="csi-node-a", node="node-1"';
  const keys = [...exposition.samples.keys()];
  // A labelled counter nothing has incremented yet (connections shed) is exported without samples: one unlabelled series stands for it.
  const familiesWithoutSamples = [...exposition.type.keys()].filter((family) => !keys.some((key) => key === family || key.startsWith(`${family}{`) || key.startsWith(`${family}_`)));
  const inputSeries = [...keys, ...familiesWithoutSamples].map((key) => {
    const brace = key.indexOf('{');
    const series = brace < 0 ? `${key}{${targetLabels}}` : `${key.slice(0, -1)}, ${targetLabels}}`;
    return { series, values: '1+1x30' };
  });

  const dashboard = JSON.parse(readDeployed('dashboard.json')) as { panels: Panel[] };
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ title: panel.title ?? panel.type, expr: target.expr })));
  assert.ok(queries.length >= 10, `only ${queries.length} queries`);
  // Grafana's variables as "All" would set them.
  const expand = (expr: string) => expr.replace(/\$__rate_interval/g, '5m').replace(/\$(driver|node|namespace|pod)\b/g, '.*');
  const rules = {
    groups: [
      {
        name: 'dashboard-queries',
        rules: queries.flatMap(({ expr }, index) => [
          { record: `dashboard:query_${index}`, expr: expand(expr) },
          { alert: `DashboardQueryEmpty${index}`, expr: `absent(dashboard:query_${index})` },
        ]),
      },
    ],
  };
  const dir = makeTempDir(t);
  fs.writeFileSync(path.join(dir, 'dashboard-rules.yaml'), stringify(rules));
  fs.writeFileSync(
    path.join(dir, 'dashboard-test.yaml'),
    stringify({
      rule_files: ['dashboard-rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: inputSeries,
          // An empty query (a series we do not export, a label we do not set) fires its absent() alert.
          alert_rule_test: queries.map((_, index) => ({ eval_time: '20m', alertname: `DashboardQueryEmpty${index}`, exp_alerts: [] })),
        },
      ],
    }),
  );
  const titles = queries.map(({ title }, index) => `${index}: ${title}`).join('\n');
  assert.match(await promtool('test', 'rules', path.join(dir, 'dashboard-test.yaml')), /SUCCESS/, titles);
});
