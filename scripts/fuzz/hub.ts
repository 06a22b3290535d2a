import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../../src/paths.js';

/**
 * A hostile Hugging Face Hub on 127.0.0.1 for the fuzz runs and the Hub tests (HF_ENDPOINT):
 * each org answers /{org}/{name}/resolve/{revision}/config.json in one bad way. Nothing here
 * touches the network.
 *
 *   ok        the Llama-3.1-8B config.json         null / array   `null`, `[]`
 *   negative  num_hidden_layers: -5                 bad            `{ not json`
 *   slow      headers, half a body, then silence    big            a 100 MB body
 *   loop      a redirect to itself                  gzip           a small gzip body inflating to 20 MB
 *   abort     half a body, then the socket closes   anything else  404
 */
export interface HostileHub {
  endpoint: string;
  close: () => Promise<void>;
}

export async function startHostileHub(): Promise<HostileHub> {
  const llama = readFileSync(new URL('test/fixtures/llama-3.1-8b.config.json', packageRoot()), 'utf8');
  // 20 MB of spaces in about 20 KB, made before serving (compressing on request would stall the loop)
  const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x20), { level: 1 });
  const server: Server = createServer((req, res) => {
    const org = (req.url ?? '').split('/')[1];
    const json = (body: string) => res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    switch (org) {
      case 'ok':
        return json(llama);
      case 'null':
        return json('null');
      case 'array':
        return json('[]');
      case 'negative':
        return json(JSON.stringify({ ...JSON.parse(llama), num_hidden_layers: -5 }));
      case 'bad':
        return json('{ not json');
      case 'slow':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(llama.slice(0, 100));
        return; // never ends: the client's deadline must
      case 'abort':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(llama.length) });
        res.write(llama.slice(0, 100));
        setTimeout(() => res.destroy(), 10);
        return;
      case 'big': {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(1024 * 1024, 0x20);
        let sent = 0;
        const more = (): void => {
          while (sent < 100 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        res.on('close', () => (sent = 100));
        return more();
      }
      case 'loop':
        return res.writeHead(302, { location: req.url }).end();
      case 'gzip':
        return res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(bomb);
      default:
        return res.writeHead(404).end('Entry not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
