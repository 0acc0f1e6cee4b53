// README.md and docs/ kept true to the code: every flag `--help` prints is in the README's flag table and the
// reverse; every relative link and anchor resolves (GitHub's heading slugs), the alerts' runbook_url included;
// every `npm run <script>` named exists; every metric family a real sidecar exports is documented and every
// documented one exported; and every Kubernetes snippet that runs the sidecar serves metrics where the
// PodMonitor scrapes.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import MarkdownIt from 'markdown-it';
import { parse, parseAllDocuments } from 'yaml';
import { parseExposition } from '../helpers/exposition';
import { REPO_ROOT } from '../helpers/image';
import { startDriverAndSidecar } from '../helpers/pair';
import { runSidecarToExit } from '../helpers/sidecar';
import { podMonitorEndpoint, servesMetricsAt } from '../helpers/metrics-endpoint';

const markdown = new MarkdownIt();

/** README.md and every docs/*.md, as paths relative to the repository. */
function documents(): string[] {
  const docs = fs.readdirSync(path.join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md'));
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

const read = (file: string) => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');

/** The text a heading or cell renders to: its inline children's text and code, as GitHub slugs it. */
const inlineText = (inline: MarkdownIt.Token) => (inline.children ?? []).filter((child) => child.type === 'text' || child.type === 'code_inline').map((child) => child.content).join('');

/** The anchors GitHub gives a document's headings: github-slugger, the slugger GitHub's own renderer follows. */
async function anchorsOf(file: string): Promise<Set<string>> {
  const { default: GithubSlugger } = await import('github-slugger');
  const slugger = new GithubSlugger();
  const tokens = markdown.parse(read(file), {});
  const anchors = new Set<string>();
  tokens.forEach((token, index) => {
    if (token.type === 'heading_open') anchors.add(slugger.slug(inlineText(tokens[index + 1])));
  });
  return anchors;
}

/** Every link target in a document (inline links; code spans and blocks hold none). */
function linksOf(file: string): string[] {
  return markdown
    .parse(read(file), {})
    .flatMap((token) => token.children ?? [])
    .filter((child) => child.type === 'link_open')
    .map((child) => child.attrGet('href')!);
}

/** Checks one repository-relative target (`docs/x.md#anchor`, `#anchor` within `from`); returns what is wrong, or undefined. */
async function brokenTarget(from: string, href: string): Promise<string | undefined> {
  const [target, anchor] = href.split('#', 2) as [string, string | undefined];
  const file = target === '' ? from : path.posix.normalize(path.posix.join(path.posix.dirname(from), decodeURIComponent(target)));
  if (file.startsWith('..')) return `${href}: outside the repository`;
  if (!fs.existsSync(path.join(REPO_ROOT, file))) return `${href}: ${file} does not exist`;
  if (anchor === undefined) return undefined;
  if (!file.endsWith('.md')) return `${href}: an anchor into a file that is not Markdown`;
  const anchors = await anchorsOf(file);
  return anchors.has(anchor) ? undefined : `${href}: no heading in ${file} has the anchor #${anchor}`;
}

test('the anchor check follows GitHub\'s slugs and finds a broken link (the check is not a no-op)', async () => {
  const anchors = await anchorsOf('README.md');
  assert.ok(anchors.has('migrating-from-the-upstream-image'), [...anchors].join(', '));
  assert.match((await brokenTarget('README.md', '#no-such-heading'))!, /no heading in README.md/);
  assert.match((await brokenTarget('README.md', 'docs/no-such-file.md'))!, /does not exist/);
  assert.equal(await brokenTarget('docs/design.md', '../README.md#flags'), undefined);
});

test('every relative link and anchor in README.md and docs/*.md resolves', async () => {
  const broken: string[] = [];
  for (const file of documents()) {
    for (const href of linksOf(file)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href)) continue; // https:, mailto: — not the repository's
      const problem = await brokenTarget(file, href);
      if (problem) broken.push(`${file}: ${problem}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('issue #35: every alert\'s runbook_url is a repository-relative link to a heading in docs/', async () => {
  const { groups } = parse(read('deploy/monitoring/alert-rules.yaml')) as { groups: { rules: { alert: string; annotations: Record<string, string> }[] }[] };
  const rules = groups.flatMap((group) => group.rules);
  assert.ok(rules.length > 0);
  for (const { alert, annotations } of rules) {
    assert.equal(annotations.runbook, undefined, `${alert}: the plain-text runbook annotation is replaced by runbook_url`);
    const url = annotations.runbook_url;
    assert.match(url ?? '', /^docs\/[\w-]+\.md#[\w-]+$/, `${alert}: runbook_url`);
    assert.equal(await brokenTarget('README.md', url), undefined, `${alert}: runbook_url ${url}`);
  }
});

test('every `npm run <script>` the docs name is a script in package.json', () => {
  const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
  const missing: string[] = [];
  let named = 0;
  for (const file of documents()) {
    for (const [, script] of read(file).matchAll(/\bnpm run ([\w:.-]*\w)/g)) {
      named += 1;
      if (!scripts.includes(script)) missing.push(`${file}: npm run ${script}`);
    }
  }
  assert.ok(named >= 5, `only ${named} npm run commands found`);
  assert.deepEqual(missing, []);
});

/** The cells of the first column of every table in the section under `heading` (a `## ` heading) of a document. */
function firstColumnCells(file: string, heading: string): string[] {
  const tokens = markdown.parse(read(file), {});
  const start = tokens.findIndex((token, index) => token.type === 'heading_open' && token.tag === 'h2' && inlineText(tokens[index + 1]) === heading);
  assert.ok(start >= 0, `${file} has no "## ${heading}"`);
  const end = tokens.findIndex((token, index) => index > start && token.type === 'heading_open' && token.tag === 'h2');
  const section = tokens.slice(start, end < 0 ? undefined : end);
  const cells: string[] = [];
  section.forEach((token, index) => {
    if (token.type === 'tr_open' && section[index + 1].type === 'td_open') cells.push(section[index + 2].content);
  });
  return cells;
}

/** The backticked names in some Markdown cells: "`--a`, `-v`" -> ["--a", "-v"]. */
const codeSpans = (cells: readonly string[]) => cells.flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]));

test('the README\'s flag table lists every flag `--help` prints, and only those', async () => {
  const usage = await runSidecarToExit(['--help']);
  assert.equal(usage.code, 0);
  const printed = new Set([...usage.stderr.matchAll(/^ {2}-([\w-]+)/gm)].map((match) => match[1]));
  assert.ok(printed.size >= 20, `only ${printed.size} flags in --help:\n${usage.stderr}`);
  // Go's flag package answers -h and -help without listing them; the table documents them all the same.
  const tabled = new Set(codeSpans(firstColumnCells('README.md', 'Flags')).map((name) => name.replace(/^--?/, '')));
  const notTabled = [...printed].filter((name) => !tabled.has(name));
  const notPrinted = [...tabled].filter((name) => !printed.has(name) && name !== 'h' && name !== 'help');
  assert.deepEqual({ notTabled, notPrinted }, { notTabled: [], notPrinted: [] });
});

test('issue #35: every metric family a real sidecar exports after a check is documented in the README, and only those', { timeout: 30_000 }, async (t) => {
  const { sidecar } = await startDriverAndSidecar(t);
  assert.equal((await sidecar.request()).status, 200);
  const exported = [...parseExposition((await sidecar.request('/metrics')).body).type.keys()].sort();
  const documented = codeSpans(firstColumnCells('README.md', 'Metrics')).filter((name) => /^[a-z_:]+$/.test(name)).sort();
  assert.deepEqual(documented, exported);
});

/** Every container in the Kubernetes YAML blocks of a Markdown document, with the document's name. */
function snippetContainers(file: string): { args?: string[]; name: string; image?: string; ports?: { name?: string; containerPort: number }[] }[][] {
  return markdown
    .parse(read(file), {})
    .filter((token) => token.type === 'fence' && token.info.trim() === 'yaml')
    .flatMap((token) => parseAllDocuments(token.content).map((document) => document.toJS() as unknown))
    .map((snippet) => {
      const found: ReturnType<typeof snippetContainers>[number] = [];
      const visit = (node: unknown): void => {
        if (Array.isArray(node)) node.forEach(visit);
        else if (node && typeof node === 'object') {
          const record = node as Record<string, unknown>;
          if (Array.isArray(record.containers)) found.push(...(record.containers as typeof found));
          else Object.values(record).forEach(visit);
        }
      };
      visit(snippet);
      return found;
    })
    .filter((containers) => containers.length > 0);
}

test('issue #35: the README\'s pod snippets serve metrics on the port the PodMonitor scrapes (not --health-port alone)', () => {
  const endpoint = podMonitorEndpoint();
  const pods = documents().flatMap((file) => snippetContainers(file).map((containers) => ({ file, containers })));
  const checked = pods.filter(({ containers }) => containers.some((container) => container.name === 'liveness-probe' && container.args));
  assert.ok(checked.length >= 1, 'no pod snippet with a liveness-probe container');
  for (const { file, containers } of checked) {
    const sidecar = containers.find((container) => container.name === 'liveness-probe')!;
    const port = containers.flatMap((container) => container.ports ?? []).find((p) => p.name === endpoint.port);
    assert.ok(port, `${file}: no container port named ${endpoint.port}, which the PodMonitor scrapes`);
    const problem = servesMetricsAt(sidecar.args!, port.containerPort, endpoint.path);
    assert.equal(problem, undefined, `${file}: ${problem}`);
  }
});
