// A real OCI registry for one test: Debian's docker-registry (the CNCF Distribution registry, v2.8),
// on a free port of 127.0.0.1 over plain HTTP, its configuration and storage in the test's folder.
// Optional settings make it refuse pushes as registries do: htpasswd authentication (an account the
// test does not have: Distribution creates the file with a random password) or read-only mode. With
// `tls`, it serves HTTPS with a certificate of its own that no one trusts (openssl writes it), as a
// registry with a company's CA does on a machine without that CA.

import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as https from 'node:https';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { stringify } from 'yaml';
import { freePort } from '../../bench/processes';
import { httpRequest } from './http';
import { waitFor } from './wait';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
/** The registry answers GET /v2/ within a second here; a loaded machine gets ten times that. */
const REGISTRY_START_TIMEOUT_MS = 15_000;

export interface RegistryOptions {
  /** Require htpasswd authentication (no account is given to the test). */
  readonly authentication?: boolean;
  /** Read-only mode (Distribution's maintenance.readonly), as a mirror that takes no pushes. */
  readonly readOnly?: boolean;
  /** HTTPS with a self-signed certificate for 127.0.0.1, trusted by no one. */
  readonly tls?: boolean;
}

export interface TestRegistry {
  /** "127.0.0.1:<port>". */
  readonly address: string;
  /** Stops it (SIGTERM, then waits for the exit); may be called twice. */
  stop(): Promise<void>;
}

/** Starts a registry with its configuration and storage under `dir`; resolves once GET /v2/ answers. */
export async function startRegistry(t: TestContext, dir: string, options: RegistryOptions = {}): Promise<TestRegistry> {
  if (!fs.existsSync(REGISTRY_BINARY)) throw new Error(`${REGISTRY_BINARY} is missing; install Debian's docker-registry (apt-get install docker-registry; .ci/run does)`);
  const address = `127.0.0.1:${await freePort()}`;
  const config = path.join(dir, 'registry.yml');
  const certificate = path.join(dir, 'registry.crt');
  const key = path.join(dir, 'registry.key');
  if (options.tls) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', certificate], { stdio: 'ignore' });
  }
  fs.writeFileSync(
    config,
    stringify({
      version: 0.1,
      log: { level: 'warn', accesslog: { disabled: true } },
      storage: {
        filesystem: { rootdirectory: path.join(dir, 'registry-storage') },
        ...(options.readOnly ? { maintenance: { readonly: { enabled: true } } } : {}),
      },
      http: { addr: address, ...(options.tls ? { tls: { certificate, key } } : {}) },
      ...(options.authentication ? { auth: { htpasswd: { realm: 'test', path: path.join(dir, 'htpasswd') } } } : {}),
    }),
  );
  const registry: ChildProcess = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  registry.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const stop = async () => {
    if (registry.exitCode === null && registry.signalCode === null) {
      const exited = new Promise((resolve) => registry.once('exit', resolve));
      registry.kill('SIGTERM');
      await exited;
    }
  };
  t.after(stop);
  try {
    // 200 open, 401 with authentication: either way the registry's API answers.
    const status = options.tls ? () => httpsStatusUnverified(`https://${address}/v2/`) : async () => (await httpRequest(`http://${address}/v2/`)).status;
    await waitFor(`the registry answering GET ${options.tls ? 'https' : 'http'}://${address}/v2/`, async () => ([200, 401].includes(await status()) ? true : undefined), REGISTRY_START_TIMEOUT_MS, 100);
  } catch (err) {
    throw new Error(`${(err as Error).message}; its stderr: ${stderr}`, { cause: err });
  }
  return { address, stop };
}

/** The status of GET `url` over HTTPS without checking the certificate (the test's own); 0 when no answer. */
function httpsStatusUnverified(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = https.get(url, { rejectUnauthorized: false, timeout: 5_000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(0));
  });
}
