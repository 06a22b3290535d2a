import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { HfConfig } from './hf/index.js';

/**
 * --hf <org/name>[@revision]: fetches config.json from the Hugging Face Hub the way
 * huggingface_hub's hf_hub_download does (GET {endpoint}/{repo}/resolve/{revision}/config.json,
 * HF_TOKEN as a bearer token, HF_ENDPOINT to point elsewhere, HF_HUB_OFFLINE=1 for cache only),
 * and keeps a copy under ${XDG_CACHE_HOME:-~/.cache}/llm-size/hf/ for offline use.
 */

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
/** Give up on a Hub request after this many seconds. */
export const HUB_TIMEOUT_SECONDS = 20;

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
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as HfConfig;
  } catch {
    throw new UserError(`cached config.json for ${label} is not valid JSON (${file}); delete it and fetch again`);
  }
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
  let response: Response;
  try {
    response = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(HUB_TIMEOUT_SECONDS * 1000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (e as Error).message;
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
  const body = await response.text();
  let config: HfConfig;
  try {
    config = JSON.parse(body) as HfConfig;
  } catch {
    throw new UserError(`${where}: config.json of ${label} from ${url} is not valid JSON`);
  }
  const warnings: string[] = [];
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, body);
  } catch (e) {
    warnings.push(`could not cache config.json for ${label} at ${cacheFile}: ${(e as Error).message}`);
  }
  return { ...ref, config, source: url, fromCache: false, warnings };
}
