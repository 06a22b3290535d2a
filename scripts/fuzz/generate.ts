import type { Command, Option } from 'commander';
import fc from 'fast-check';
import { DOMAINS } from '../../src/inputs/domains.js';

/**
 * Command lines generated from the real command tree (src/cli.ts commandTree): every command
 * and subcommand, each of its options with its real argument shape and choices, its positional
 * arguments, plus unknown flags and repeats. A flag added to any command is fuzzed without
 * being listed here. Values mix numbers people type (and the ones that broke us: 1e21,
 * 5e-324, 1e6k), preset names, files from a hostile corpus and unicode garbage.
 */

export interface Pools {
  /** every preset id, format and choice name, for values that are names */
  names: string[];
  /** a model preset id per base run */
  models: string[];
  /** files and folders of the hostile corpus (corpus.ts) */
  paths: string[];
  /** hub repo references the local hostile Hub answers (hub.ts) */
  hubRefs: string[];
}

/** Every domain's bounds (src/inputs/domains.ts): the valid extremes estimators must survive. */
const BOUNDS = [...new Set(Object.values(DOMAINS).flatMap((d) => [d.min, d.max, d.max / 2, Math.min(d.max, d.min * 3)]).map(String))];

const NUMBERS = [
  '0', '-1', '1', '1.5', '2', '3', '7', '8', '16', '64', '100', '1000', '4096', '1e6', '1e15', '1e21', '1e308', '1e400', '5e-324', '1e-7', '0.001',
  'NaN', 'Infinity', '-Infinity', '-0', '4294967296', '99999999999', '7b', '1e6k', '32k', '128k', '1.5M', '125m', '1t', '0x10', '1_000', '1,000',
  '50%', '0.5', '101%', '500ms', '1s', '2min', '', ' ', '1e', '.5', '5.', '+3', '1 000', 'uniform:1..10', 'lognormal:mean=100,sd=10', 'zipf:s=1.1',
];
const GARBAGE = ['a\nb', '\u001b[31mred', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '../../etc/passwd', '$(echo x)', '%s%n', 'a\u2028b', '\u0000', '\ud800', 'é', '🦙', 'x'.repeat(300), '-', '--', '=', 'a=b', 'batch=', 'batch=1..1e9', 'batch=1,2,4..1e300', 'context=1k..1e9k', 'gpu=h100-sxm,nope'];

/** A value in the shape people type, or not. */
export function valueArb(p: Pools, choices?: readonly string[]): fc.Arbitrary<string> {
  const numberish = fc.oneof(
    { arbitrary: fc.constantFrom(...NUMBERS), weight: 5 },
    { arbitrary: fc.constantFrom(...BOUNDS), weight: 3 },
    { arbitrary: fc.integer({ min: -10, max: 2_000_000 }).map(String), weight: 2 },
    { arbitrary: fc.double().map(String), weight: 1 },
    { arbitrary: fc.tuple(fc.nat({ max: 99_999 }), fc.constantFrom('', 'k', 'm', 'b', 't', 'K', 'M', 'ms', 's', '%', 'e3', 'e9', 'e30', 'GiB')).map(([n, s]) => `${n}${s}`), weight: 2 },
  );
  const names = fc.constantFrom(...p.names);
  const garbage = fc.oneof(fc.constantFrom(...GARBAGE), fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 8 }));
  const list = fc.array(fc.oneof(names, numberish), { minLength: 1, maxLength: 4 }).map((a) => a.join(','));
  const any = fc.oneof(
    { arbitrary: numberish, weight: 6 },
    { arbitrary: names, weight: 3 },
    { arbitrary: fc.constantFrom(...p.paths), weight: 1 },
    { arbitrary: fc.constantFrom(...p.hubRefs), weight: 1 },
    { arbitrary: garbage, weight: 1 },
    { arbitrary: list, weight: 1 },
  );
  return choices?.length ? fc.oneof({ arbitrary: fc.constantFrom(...choices), weight: 6 }, { arbitrary: any, weight: 1 }) : any;
}

/** One option as it appears on a command line: the flag alone, or with a value (two forms). */
function optionArb(o: Option, p: Pools): fc.Arbitrary<string[]> {
  const flag = o.long ?? o.short!;
  if (!o.required && !o.optional) return fc.constant([flag] as string[]);
  const value = valueArb(p, o.argChoices);
  return fc.oneof(
    { arbitrary: value.map((v) => [flag, v]), weight: 5 },
    { arbitrary: value.map((v) => [`${flag}=${v}`]), weight: 1 },
    ...(o.optional ? [{ arbitrary: fc.constant([flag] as string[]), weight: 1 }] : []),
  );
}

/** Every runnable command path in the tree with the command it names. */
export function commandPaths(root: Command): { path: string[]; cmd: Command }[] {
  const out: { path: string[]; cmd: Command }[] = [];
  const walk = (cmd: Command, path: string[]) => {
    out.push({ path, cmd });
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  walk(root, []);
  return out;
}

/**
 * What a command needs to get past "no model given" to the estimators most of the time: a
 * model preset (when it has --model), a light load and one accelerator (when it has --qps and
 * --hardware: a plan over every priced accelerator is slow), an --over (when it has one).
 * Derived from the flags the command has, not from its name.
 */
function baseArb(cmd: Command, p: Pools): fc.Arbitrary<string[]> {
  const has = (long: string) => cmd.options.some((o) => o.long === long);
  const parts: fc.Arbitrary<string[]>[] = [];
  if (has('--model')) parts.push(fc.oneof({ arbitrary: fc.constantFrom(...p.models).map((m) => ['--model', m]), weight: 8 }, { arbitrary: fc.constant([] as string[]), weight: 2 }));
  if (has('--qps') && has('--hardware')) parts.push(fc.constantFrom(['--qps', '1', '--hardware', 'h100-sxm'], ['--concurrency', '8', '--hardware', 'l4,h100-sxm'], ['--qps', '3', '--hardware', 'a100-80gb'], []));
  if (has('--over')) parts.push(fc.constantFrom(['--over', 'batch=1,2'], ['--over', 'context=1k..4k'], ['--over', 'gpu=h100-sxm,l4'], []));
  if (has('--format')) parts.push(fc.oneof({ arbitrary: fc.constantFrom('json', 'yaml', 'csv', 'table', 'markdown').map((f) => ['--format', f]), weight: 3 }, { arbitrary: fc.constant([] as string[]), weight: 1 }));
  return parts.length ? fc.tuple(...parts).map((xs) => xs.flat()) : fc.constant([]);
}

/** Positional arguments as the command declares them (choices honoured most of the time). */
function argumentsArb(cmd: Command, p: Pools): fc.Arbitrary<string[]> {
  const args = cmd.registeredArguments.map((a) => {
    const one = valueArb(p, a.argChoices);
    const values = a.variadic ? fc.array(one, { minLength: a.required ? 1 : 0, maxLength: 3 }) : one.map((v) => [v]);
    return a.required ? values : fc.oneof(values, fc.constant([] as string[]));
  });
  return args.length ? fc.tuple(...args).map((xs) => xs.flat()) : fc.constant([]);
}

/** Flags that give the model another way than --model (the base's --model then stays out). */
const MODEL_SOURCES = ['--params', '--hf-config', '--hf', '--spec', '--layers', '--hidden', '--heads', '--kv-heads', '--head-dim', '--ffn', '--vocab', '--tied-embeddings'];
/** With one architecture flag, the others it needs, at small valid values (unless given). */
const ARCH_DEFAULTS: [string, string][] = [['--layers', '4'], ['--hidden', '512'], ['--heads', '8'], ['--ffn', '1024'], ['--vocab', '32000']];

/** A base and random flags made into one command line that mostly reaches the estimators. */
function assemble(path: string[], args: string[], base: string[], flags: string[]): string[] {
  const given = new Set(flags.map((f) => f.split('=')[0]));
  const b = MODEL_SOURCES.some((m) => given.has(m)) ? base.filter((x, i) => x !== '--model' && base[i - 1] !== '--model') : base;
  const arch = MODEL_SOURCES.slice(4).some((f) => given.has(f)) ? ARCH_DEFAULTS.filter(([f]) => !given.has(f)).flat() : [];
  return [...path, ...args, ...b, ...arch, ...flags];
}

/** Command lines for the whole tree: a path, its base, positional arguments and 0-5 random flags. */
export function argvArb(root: Command, p: Pools): fc.Arbitrary<string[]> {
  const globals = root.options;
  const perCommand = commandPaths(root).map(({ path, cmd }) => {
    const options = [...cmd.options, ...globals];
    const flag = fc.oneof(
      { arbitrary: fc.oneof(...options.map((o) => optionArb(o, p))), weight: 12 },
      { arbitrary: fc.constantFrom(['--nope'], ['-z'], ['--format'], ['--'], ['--help'], ['help'], ['--model', '--gpu']), weight: 1 },
    );
    const line = fc.tuple(baseArb(cmd, p), argumentsArb(cmd, p), fc.array(flag, { maxLength: 5 })).map(([base, args, flags]) => assemble(path, args, base, flags.flat()));
    // commands with many flags are where the work is; groups (llm-size, presets) get a few runs
    return { arbitrary: line, weight: cmd.commands.length ? 1 : cmd.options.length > 10 ? 12 : 2 };
  });
  return fc.oneof(...perCommand);
}
