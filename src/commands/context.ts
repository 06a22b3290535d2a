import type { Catalog } from '../spec/catalog.js';

/** What a command may use of the outside world; cli.ts builds it, tests fake it. */
export interface Context {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  color: boolean;
  /** built-in presets plus user presets, loaded on first use */
  catalog: () => Promise<Catalog>;
  exitCode: number;
}
