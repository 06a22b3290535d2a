import { delimiter } from 'node:path';
import { Option } from 'commander';

/**
 * Where user presets come from: the `--presets <dir>` option every command that reads presets
 * takes, and LLM_SIZE_PRESETS. Kept apart from the presets command so a run of another command
 * does not load it.
 */

/** `--presets <dir>`, repeatable; cli.ts reads it before the command runs. */
export function presetsOption(): Option {
  return new Option('--presets <dir>', 'a directory (or file) of your own presets, added to LLM_SIZE_PRESETS and the built-ins (repeatable)').argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/** User preset paths: LLM_SIZE_PRESETS (':'-separated) first, then each --presets. */
export function presetPathsFrom(env: Record<string, string | undefined>, flag: unknown): { path: string; where: string }[] {
  const fromEnv = (env.LLM_SIZE_PRESETS ?? '').split(delimiter).filter(Boolean).map((path) => ({ path, where: 'LLM_SIZE_PRESETS' }));
  const flags = Array.isArray(flag) ? flag : typeof flag === 'string' ? [flag] : [];
  return [...fromEnv, ...flags.map((path: string) => ({ path, where: '--presets' }))];
}
