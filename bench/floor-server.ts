// Node's floor: a bare `node:net` server that answers every request head with
// a fixed 200, run by the benchmark with the sidecar's V8 options.
// It loads nothing but `net` and talks to no driver, so what it costs is what
// Node itself (its binary, V8, libuv) costs any server: the sidecar's figures
// are read above it.
//
//   node <options> dist/bench/floor-server.js --http-endpoint=127.0.0.1:<port> [other flags, ignored]
//
// Written as plain as it can be on purpose: no parser, no routes; a request is
// whatever ends with an empty line.

import * as net from 'node:net';

const ANSWER = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1');
const HEAD_END = '\r\n\r\n';

/** The host and port of `--http-endpoint=host:port` among `argv`. */
function endpointOf(argv: readonly string[]): { host: string; port: number } {
  const flag = argv.find((arg) => arg.startsWith('--http-endpoint='));
  const match = flag === undefined ? null : /^(.*):(\d+)$/.exec(flag.slice('--http-endpoint='.length));
  if (match === null) throw new Error(`floor-server: give --http-endpoint=host:port (got ${flag ?? 'none'})`);
  return { host: match[1] || '0.0.0.0', port: Number(match[2]) };
}

const { host, port } = endpointOf(process.argv.slice(2));
net
  .createServer((socket) => {
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf(HEAD_END); end !== -1; end = pending.indexOf(HEAD_END)) {
        pending = pending.slice(end + HEAD_END.length);
        socket.write(ANSWER);
      }
    });
    socket.on('error', () => socket.destroy());
  })
  .listen(port, host);
