import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect } from 'vitest';
import { run } from '../src/cli.js';

/** Runs the CLI in-process and captures what it would print. */
export async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env: { NO_COLOR: '1', ...env }, isTty: false });
  return { code, stdout, stderr };
}

/** JSON output of a CLI run that must succeed. */
export async function cliJson(args: string[]): Promise<any> {
  const r = await cli([...args, '--format', 'json']);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Asserts the bad-input contract: exit 2, nothing on stdout, one line on stderr matching
 * `message`, and no stack trace.
 */
export async function expectBadInput(args: string[], message: RegExp, env: Record<string, string | undefined> = {}): Promise<void> {
  const r = await cli(args, env);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/**
 * A local HTTP server on 127.0.0.1 for the suite's lifetime (tests never touch the network).
 * Returns a function giving its base URL once started.
 */
export function localHttpServer(handler: RequestListener): () => string {
  let server: Server;
  let endpoint = '';
  beforeAll(async () => {
    server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return () => endpoint;
}
