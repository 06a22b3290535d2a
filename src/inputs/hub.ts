import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { oneLine, UserError } from '../errors.js';
import { parsePythonJson, readFileText } from './files.js';
import { importHfConfig } from './hf/index.js';
import type { HfConfig } from './hf/index.js';

/**
 * --hf <org/name>[@revision]: fetches config.json from the Hugging Face Hub the way
 * huggingface_hub's hf_hub_download does (GET {endpoint}/{repo}/resolve/{revision}/config.json,
 * HF_TOKEN as a bearer token, HF_ENDPOINT to point elsewhere, HF_HUB_OFFLINE=1 for cache only),
 * and keeps a copy under ${XDG_CACHE_HOME:-~/.cache}/llm-size/hf/ for offline use.
 */

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
/** Give up on a Hub request, body included, after this many seconds (HF_HUB_DOWNLOAD_TIMEOUT overrides). */
export const HUB_TIMEOUT_SECONDS = 20;
/** The largest config.json accepted from the Hub (published ones are a few kB; Gemma 3's is 2 kB). */
export const HUB_MAX_BYTES = 5 * 1024 * 1024;

export interface HubRef {
  repo: string;
  revision: string;
}

export interface HubConfig extends HubRef {
  config: HfConfig;
  /** where it came from: the URL, or the cache file */
  source: string;
  fromCache: boolean;
  warnings: string[];
}

export interface HubOptions {
  env: Record<string, string | undefined>;
  /** use the cache only (--offline; HF_HUB_OFFLINE=1 does the same) */
  offline?: boolean;
  /** the flag or spec-file field the reference came from, for messages */
  where?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** "org/name[@revision]" -> { repo, revision }; revision defaults to main. */
export function parseHubRef(text: string, where = '--hf'): HubRef {
  const [repo, revision = 'main', ...rest] = text.trim().split('@');
  const parts = repo.split('/');
  const ok = rest.length === 0 && parts.length === 2 && parts.every((p) => NAME.test(p) && !p.includes('..')) && /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(revision) && !revision.includes('..');
  if (!ok) throw new UserError(`${where}: invalid value ${JSON.stringify(text)}; expected <org>/<name>[@revision], e.g. meta-llama/Llama-3.1-8B or Qwen/Qwen3-8B@main`);
  return { repo, revision };
}

const truthy = (v: string | undefined) => v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** The cache file for a repo and revision. */
export function hubCachePath(ref: HubRef, env: Record<string, string | undefined>): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'llm-size', 'hf', ...ref.repo.split('/'), encodeURIComponent(ref.revision), 'config.json');
}

function readCache(file: string, label: string): HfConfig | undefined {
  const read = readFileText(file);
  if (!read.ok) return undefined;
  try {
    return parsePythonJson(read.text) as HfConfig;
  } catch {
    throw new UserError(`cached config.json for ${label} is not valid JSON (${file}); delete it and fetch again`);
  }
}

/** The deadline for one Hub request, body included: HF_HUB_DOWNLOAD_TIMEOUT seconds (as huggingface_hub reads it), else HUB_TIMEOUT_SECONDS. */
function hubTimeoutSeconds(env: Record<string, string | undefined>): number {
  const v = Number(env.HF_HUB_DOWNLOAD_TIMEOUT);
  return Number.isFinite(v) && v > 0 && v <= 600 ? v : HUB_TIMEOUT_SECONDS;
}

/** Why a fetch or a body read failed, in words (undici wraps the reason in `cause`). */
function networkReason(e: unknown, seconds: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return `no complete answer within ${seconds} s (HF_HUB_DOWNLOAD_TIMEOUT)`;
  if (/redirect/i.test(err?.cause?.message ?? '')) return 'too many redirects (a redirect loop)';
  if (err?.message === 'terminated' || err?.cause?.code === 'UND_ERR_SOCKET') return 'the connection closed before the answer was complete';
  return oneLine(err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e));
}

/** A response body as text, at most HUB_MAX_BYTES (decompressed), within the request's deadline. */
async function readBody(response: Response, label: string, where: string, seconds: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  const tooLarge = () => new UserError(`${where}: config.json of ${label} is larger than ${HUB_MAX_BYTES / 1024 / 1024} MB, the most this tool reads; pass --hf-config <file> if it really is a config`);
  if (Number.isFinite(declared) && declared > HUB_MAX_BYTES && !response.headers.get('content-encoding')) throw tooLarge();
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > HUB_MAX_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${where}: fetching config.json of ${label}: ${networkReason(e, seconds)}; try again, or pass --hf-config <file>`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Fetches (or reads from the cache) a model's config.json. */
export async function fetchHubConfig(text: string, opts: HubOptions): Promise<HubConfig> {
  const where = opts.where ?? '--hf';
  const ref = parseHubRef(text, where);
  const label = `${ref.repo}@${ref.revision}`;
  const { env } = opts;
  const cacheFile = hubCachePath(ref, env);
  const endpoint = (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
  const page = `${endpoint}/${ref.repo}`;

  if (opts.offline || truthy(env.HF_HUB_OFFLINE)) {
    const cached = readCache(cacheFile, label);
    if (!cached) throw new UserError(`${where}: offline (${opts.offline ? '--offline' : 'HF_HUB_OFFLINE'}) and no cached config.json for ${label} (looked in ${cacheFile}); run once online first, or pass --hf-config <file>`);
    return { ...ref, config: cached, source: cacheFile, fromCache: true, warnings: [] };
  }

  const url = `${endpoint}/${ref.repo}/resolve/${encodeURIComponent(ref.revision)}/config.json`;
  const headers: Record<string, string> = { 'user-agent': 'llm-size' };
  if (env.HF_TOKEN) headers.authorization = `Bearer ${env.HF_TOKEN}`;
  const seconds = hubTimeoutSeconds(env);
  // one deadline for the whole request, headers and body: a server that never finishes is refused
  const signal = AbortSignal.timeout(seconds * 1000);
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', signal });
  } catch (e) {
    const reason = networkReason(e, seconds);
    const cached = readCache(cacheFile, label);
    if (cached) {
      const when = statSync(cacheFile).mtime.toISOString().slice(0, 10);
      return { ...ref, config: cached, source: cacheFile, fromCache: true, warnings: [`cannot reach ${endpoint} (${reason}); using the config.json for ${label} cached on ${when}`] };
    }
    throw new UserError(`${where}: cannot reach ${endpoint} (${reason}) to fetch ${label}; check the network or HF_ENDPOINT, or pass --hf-config <file>`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new UserError(
      env.HF_TOKEN
        ? `${where}: ${ref.repo} refused the token in HF_TOKEN (HTTP ${response.status}): the model is gated or private; accept its licence at ${page} with the account the token belongs to, and check that the token can read gated repositories`
        : `${where}: ${ref.repo} needs authentication (HTTP ${response.status}): it is gated, private or does not exist; accept its licence at ${page}, then set HF_TOKEN to a read token from https://huggingface.co/settings/tokens`,
    );
  }
  if (response.status === 404) throw new UserError(`${where}: ${ref.repo} has no config.json at revision "${ref.revision}" (HTTP 404 from ${endpoint}); check the repository name and revision`);
  if (!response.ok) throw new UserError(`${where}: ${endpoint} answered HTTP ${response.status} for ${label}; try again later or pass --hf-config <file>`);
  const body = await readBody(response, label, where, seconds);
  let config: HfConfig;
  try {
    config = parsePythonJson(body) as HfConfig;
  } catch {
    throw new UserError(`${where}: config.json of ${label} from ${url} is not valid JSON`);
  }
  // Only a config this tool can read enters the cache: a bad answer (null, [], a string, a
  // negative layer count) must never replace a good cached copy.
  try {
    importHfConfig(config, `${label} config.json`, ref.repo, ref.repo);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${where}: ${e.message} (from ${url}; not cached)`);
    throw e;
  }
  const warnings: string[] = [];
  try {
    // write aside, then rename: a run that stops half-way never leaves half a file behind
    mkdirSync(dirname(cacheFile), { recursive: true });
    const partial = `${cacheFile}.${process.pid}.partial`;
    writeFileSync(partial, body);
    renameSync(partial, cacheFile);
  } catch (e) {
    warnings.push(`could not cache config.json for ${label} at ${cacheFile}: ${oneLine((e as Error).message)}`);
  }
  return { ...ref, config, source: url, fromCache: false, warnings };
}
