// A pod network of the test's own: two network namespaces joined by a veth
// pair (iproute2; the tests run as root), a "node" side where the sidecar runs
// and a "kubelet" side that probes the pod's IPv6 and IPv4 addresses across the
// link, as a kubelet probes a pod IP. The addresses are from the documentation
// and unique-local ranges, reachable only inside these namespaces; both
// namespaces are removed after the test, even when it fails.

import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { TestContext } from 'node:test';
import { SIDECAR_MAIN, SidecarCommand } from './sidecar';

export const POD_IPV6 = 'fd00:5ec::2';
export const POD_IPV4 = '192.0.2.2';
const KUBELET_IPV6 = 'fd00:5ec::1';
const KUBELET_IPV4 = '192.0.2.1';

let created = 0;

function ip(...args: string[]): void {
  try {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
    throw new Error(`ip ${args.join(' ')} failed (the test needs root and Debian's iproute2): ${stderr || (err as Error).message}`);
  }
}

export interface PodNetwork {
  /** Runs the sidecar (the tsc build) inside the pod's namespace. */
  readonly sidecarCommand: SidecarCommand;
  /** GET `url` from the kubelet's side; resolves with the status and body, or the connection error's code. */
  probeFromKubelet(url: string): Promise<{ status: number; body: string } | { error: string }>;
}

/**
 * Creates the two namespaces and the link. `hosts` becomes /etc/hosts inside
 * the pod's namespace (ip netns exec mounts /etc/netns/NAME/hosts over it), so
 * a test controls what a host name resolves to there.
 */
export function createPodNetwork(t: TestContext, hosts = '127.0.0.1 localhost\n::1 localhost\n'): PodNetwork {
  const id = `${process.pid % 100_000}x${created++}`;
  const pod = `lp-pod-${id}`;
  const kubelet = `lp-kubelet-${id}`;
  const podLink = `lpp${id}`;
  const kubeletLink = `lpk${id}`;
  t.after(() => {
    for (const ns of [pod, kubelet]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // not created
      }
    }
    fs.rmSync(`/etc/netns/${pod}`, { recursive: true, force: true });
  });
  ip('netns', 'add', pod);
  ip('netns', 'add', kubelet);
  ip('link', 'add', podLink, 'type', 'veth', 'peer', 'name', kubeletLink);
  ip('link', 'set', podLink, 'netns', pod);
  ip('link', 'set', kubeletLink, 'netns', kubelet);
  ip('-n', pod, 'addr', 'add', `${POD_IPV6}/64`, 'dev', podLink, 'nodad');
  ip('-n', pod, 'addr', 'add', `${POD_IPV4}/24`, 'dev', podLink);
  ip('-n', kubelet, 'addr', 'add', `${KUBELET_IPV6}/64`, 'dev', kubeletLink, 'nodad');
  ip('-n', kubelet, 'addr', 'add', `${KUBELET_IPV4}/24`, 'dev', kubeletLink);
  for (const [ns, link] of [[pod, podLink], [kubelet, kubeletLink]]) {
    ip('-n', ns, 'link', 'set', link, 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  }
  fs.mkdirSync(`/etc/netns/${pod}`, { recursive: true });
  fs.writeFileSync(`/etc/netns/${pod}/hosts`, hosts);

  return {
    sidecarCommand: { executable: 'ip', leadingArgs: ['netns', 'exec', pod, process.execPath, SIDECAR_MAIN] },
    probeFromKubelet(url) {
      const script = `
        const request = require('node:http').get(${JSON.stringify(url)}, { agent: false, timeout: 3000 }, (response) => {
          let body = '';
          response.setEncoding('utf8').on('data', (chunk) => (body += chunk));
          response.on('end', () => console.log(JSON.stringify({ status: response.statusCode, body })));
        });
        request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
        request.on('error', (err) => console.log(JSON.stringify({ error: err.code ?? err.message })));`;
      return new Promise((resolve, reject) => {
        const child = spawn('ip', ['netns', 'exec', kubelet, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        child.on('close', () => {
          try {
            resolve(JSON.parse(output));
          } catch {
            reject(new Error(`probe of ${url} from the kubelet's namespace printed: ${output}`));
          }
        });
      });
    },
  };
}
