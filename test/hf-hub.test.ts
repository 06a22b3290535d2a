import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { hubCachePath, parseHubRef } from '../src/inputs/hub.js';
import { cli, localHttpServer } from './helpers.js';

/**
 * --hf against a local Hugging Face-like server on 127.0.0.1 (HF_ENDPOINT), never the internet.
 * The server serves /{org}/{name}/resolve/{revision}/config.json like huggingface.co does:
 * 200 with the file, 401 for a gated repo without a token, 403 with a token that has no
 * access, 404 for a missing repo or revision.
 */
const llama = JSON.parse(readFileSync(new URL('./fixtures/llama-3.1-8b.config.json', import.meta.url), 'utf8'));
const GOOD_TOKEN = 'hf_good';

const requests: { url: string; auth?: string }[] = [];

function respond(req: IncomingMessage): { status: number; body: string } {
  const url = req.url ?? '';
  const auth = req.headers.authorization;
  if (url === '/meta-llama/Llama-3.1-8B/resolve/main/config.json' || url === '/meta-llama/Llama-3.1-8B/resolve/v1.0/config.json') return { status: 200, body: JSON.stringify(llama) };
  if (url === '/gated-org/Gated-Model/resolve/main/config.json') {
    if (!auth) return { status: 401, body: 'Access to model gated-org/Gated-Model is restricted.' };
    if (auth !== `Bearer ${GOOD_TOKEN}`) return { status: 403, body: 'Access to model gated-org/Gated-Model is restricted and you are not in the authorized list.' };
    return { status: 200, body: JSON.stringify(llama) };
  }
  if (url === '/broken/Model/resolve/main/config.json') return { status: 200, body: '{ not json' };
  if (url === '/busy/Model/resolve/main/config.json') return { status: 503, body: 'unavailable' };
  return { status: 404, body: 'Entry not found' };
}

const hub = localHttpServer((req, res) => {
  requests.push({ url: req.url ?? '', auth: req.headers.authorization });
  const { status, body } = respond(req);
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
});

let cache: string;
beforeEach(() => {
  cache = mkdtempSync(join(tmpdir(), 'llm-size-hf-'));
  requests.length = 0;
  return () => rmSync(cache, { recursive: true, force: true });
});

const run = (args: string[], env: Record<string, string> = {}) => cli(['estimate', ...args, '--gpu', 'h100-sxm', '--format', 'json'], { HF_ENDPOINT: hub(), XDG_CACHE_HOME: cache, ...env });

/** A port nothing listens on: open a server, note its port, close it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('--hf fetches config.json from the Hub endpoint', () => {
  it('reads the model and gives the same figures as the config file (Llama-3.1-8B: 8,030,261,248 params)', async () => {
    const r = await run(['--hf', 'meta-llama/Llama-3.1-8B']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.figures['params.total'].value).toBe(8_030_261_248);
    expect(out.input.model.id).toBe('meta-llama/Llama-3.1-8B');
    expect(requests.map((q) => q.url)).toEqual(['/meta-llama/Llama-3.1-8B/resolve/main/config.json']);
  });

  it('@revision selects the revision and the file is cached under XDG_CACHE_HOME/llm-size/hf', async () => {
    const r = await run(['--hf', 'meta-llama/Llama-3.1-8B@v1.0']);
    expect(r.code).toBe(0);
    expect(requests[0].url).toBe('/meta-llama/Llama-3.1-8B/resolve/v1.0/config.json');
    const file = hubCachePath({ repo: 'meta-llama/Llama-3.1-8B', revision: 'v1.0' }, { XDG_CACHE_HOME: cache });
    expect(file).toBe(join(cache, 'llm-size', 'hf', 'meta-llama', 'Llama-3.1-8B', 'v1.0', 'config.json'));
    expect(JSON.parse(readFileSync(file, 'utf8')).hidden_size).toBe(4096);
  });

  it('HF_TOKEN is sent as a bearer token and opens a gated model', async () => {
    const r = await run(['--hf', 'gated-org/Gated-Model'], { HF_TOKEN: GOOD_TOKEN });
    expect(r.code).toBe(0);
    expect(requests[0].auth).toBe(`Bearer ${GOOD_TOKEN}`);
  });

  it('offline (--offline or HF_HUB_OFFLINE=1) reads the cache without a request', async () => {
    expect((await run(['--hf', 'meta-llama/Llama-3.1-8B'])).code).toBe(0);
    requests.length = 0;
    for (const [args, env] of [[['--offline'], {}], [[], { HF_HUB_OFFLINE: '1' }]] as const) {
      const r = await run(['--hf', 'meta-llama/Llama-3.1-8B', ...args], env);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).figures['params.total'].value).toBe(8_030_261_248);
    }
    expect(requests).toEqual([]);
  });

  it('network failure falls back to the cache with a warning', async () => {
    expect((await run(['--hf', 'meta-llama/Llama-3.1-8B'])).code).toBe(0);
    const r = await run(['--hf', 'meta-llama/Llama-3.1-8B'], { HF_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\); using the config.json for meta-llama\/Llama-3.1-8B@main cached on/);
  });
});

describe('--hf errors: one line on stderr, exit 2, nothing on stdout', () => {
  it.each([
    ['gated without a token (401)', ['--hf', 'gated-org/Gated-Model'], {}, /--hf: gated-org\/Gated-Model needs authentication \(HTTP 401\).*accept its licence at http:\/\/127\.0\.0\.1:\d+\/gated-org\/Gated-Model, then set HF_TOKEN/],
    ['gated with a token that has no access (403)', ['--hf', 'gated-org/Gated-Model'], { HF_TOKEN: 'hf_other' }, /refused the token in HF_TOKEN \(HTTP 403\).*accept its licence/],
    ['missing repository (404)', ['--hf', 'nobody/No-Such-Model'], {}, /--hf: nobody\/No-Such-Model has no config.json at revision "main" \(HTTP 404/],
    ['missing revision (404)', ['--hf', 'meta-llama/Llama-3.1-8B@nope'], {}, /has no config.json at revision "nope"/],
    ['server error (503)', ['--hf', 'busy/Model'], {}, /answered HTTP 503 for busy\/Model@main/],
    ['invalid JSON', ['--hf', 'broken/Model'], {}, /config.json of broken\/Model@main .* is not valid JSON/],
    ['malformed reference', ['--hf', 'not-a-repo'], {}, /--hf: invalid value "not-a-repo"; expected <org>\/<name>\[@revision\]/],
    ['offline with nothing cached', ['--hf', 'meta-llama/Llama-3.1-8B', '--offline'], {}, /--hf: offline \(--offline\) and no cached config.json for meta-llama\/Llama-3.1-8B@main/],
    ['two model sources', ['--hf', 'meta-llama/Llama-3.1-8B', '--model', 'llama-3.1-8b'], {}, /give the model one way only, got --model and --hf/],
  ])('%s', async (_name, args, env, message) => {
    const r = await run(args, env as Record<string, string>);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('network failure with nothing cached names the endpoint and the cause', async () => {
    const r = await run(['--hf', 'meta-llama/Llama-3.1-8B'], { HF_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--hf: cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\) to fetch meta-llama\/Llama-3.1-8B@main/);
    expect(existsSync(join(cache, 'llm-size'))).toBe(false);
  });

  it.each([
    ['org/name', { repo: 'org/name', revision: 'main' }],
    ['Qwen/Qwen3-8B@refs/pr/1', { repo: 'Qwen/Qwen3-8B', revision: 'refs/pr/1' }],
  ])('parses %s', (text, ref) => {
    expect(parseHubRef(text)).toEqual(ref);
  });

  it.each(['../etc/passwd', 'org/name/extra', 'org/..', 'org/name@../x', 'org/name@a@b'])('rejects %s', (text) => {
    expect(() => parseHubRef(text)).toThrow(/expected <org>\/<name>\[@revision\]/);
  });
});
