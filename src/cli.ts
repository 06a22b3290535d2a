import { fstatSync, statSync, writeSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { Context } from './commands/context.js';
import { presetPathsFrom } from './commands/preset-paths.js';
import type { Catalog } from './inputs/catalog.js';
import { oneLine, UserError } from './errors.js';
import { builtInCatalog } from './inputs/presets.js';
import { outputWidth, wrapLine } from './format/width.js';
import { INTERPRETED_COMMANDS, interpretOnly } from './jit.js';

type CommandFactory = (ctx: Context) => Command;

/**
 * Every subcommand, loaded on demand: a run imports only the module of the command it names
 * (scripts call `estimate` in loops, so it must not pay for plan, train or sweep). Help, an
 * unknown name and `completion` (which describes the whole tree) load them all.
 */
const COMMANDS = {
  estimate: async () => (await import('./commands/estimate.js')).estimateCommand,
  train: async () => (await import('./commands/train.js')).trainCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  rag: async () => (await import('./commands/rag.js')).ragCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  sweep: async () => (await import('./commands/sweep.js')).sweepCommand,
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand,
  presets: async () => (await import('./commands/presets.js')).presetsCommand,
  schema: async () => (await import('./commands/schema.js')).schemaCommand,
  completion: async () => (await import('./commands/completion.js')).completionCommand,
} satisfies Record<string, () => Promise<CommandFactory>>;
type CommandName = keyof typeof COMMANDS;

/** The commands a run needs: the one argv names, or all of them. */
function commandsFor(argv: string[]): CommandName[] {
  const all = Object.keys(COMMANDS) as CommandName[];
  const named = argv.find((a) => !a.startsWith('-'));
  return named && named !== 'completion' && (all as string[]).includes(named) ? [named as CommandName] : all;
}

/** Colour: FORCE_COLOR wins, then NO_COLOR, then whether stdout is a terminal. */
export function wantsColor(env: Record<string, string | undefined>, isTty: boolean): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTty;
}

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  isTty: boolean;
  /** the terminal's width in columns, when stdout is one */
  columns?: number;
}

/** The program with its global options, before its commands are added. */
function newProgram(): Command {
  return new Command('llm-size')
    .description('What does it take to run or train this model? Memory, FLOPs, latency, throughput and cost on GPUs and TPUs.')
    .version('0.1.0')
    .showSuggestionAfterError(true)
    .option('-q, --quiet', 'print no warnings on stderr (errors still print)')
    .option('--wide', 'keep every table row on one line, however wide (default: fit the terminal, or COLUMNS)');
}

/**
 * The whole command tree with every command loaded, for tools that walk the flags (the fuzz
 * tests generate command lines from it, so a new flag is fuzzed without being listed). Never
 * run: its context refuses to do anything.
 */
export async function commandTree(): Promise<Command> {
  const refuse = (): never => {
    throw new Error('commandTree() is for reading the flags, not for running');
  };
  const ctx: Context = { out: refuse, err: refuse, env: {}, color: false, isTty: false, warn: refuse, width: refuse, catalog: refuse, exitCode: 0 };
  const program = newProgram();
  for (const name of Object.keys(COMMANDS) as CommandName[]) program.addCommand((await COMMANDS[name]())(ctx));
  return program;
}

/**
 * Runs the CLI on argv (without node and script) and returns the exit code: 0 done,
 * 1 a failed check, 2 bad input, 70 a bug. Output is buffered so an error leaves nothing
 * half-written on stdout.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  let stdout = '';
  let quiet = false;
  let wide = false;
  let presetFlag: unknown;
  let catalog: Promise<Catalog> | undefined;
  const ctx: Context = {
    out: (text) => (stdout += text),
    err: io.err,
    env: io.env,
    color: wantsColor(io.env, io.isTty),
    isTty: io.isTty,
    width: () => outputWidth(io.env, io.isTty, io.columns, wide),
    warn: (text) => {
      if (!quiet) io.err(`warning: ${wrapLine(text, outputWidth(io.env, io.isTty, io.columns, wide) - 9, '  ')}\n`);
    },
    // Built-ins, plus user presets (LLM_SIZE_PRESETS, --presets) loaded with YAML and zod only
    // when some are given; loaded once per run.
    catalog: () =>
      (catalog ??= (async () => {
        const paths = presetPathsFrom(io.env, presetFlag);
        if (!paths.length) return builtInCatalog();
        const { withUserPresets } = await import('./inputs/load-presets.js');
        return withUserPresets(builtInCatalog(), paths, (text) => {
          if (!quiet) io.err(`notice: ${text}\n`);
        });
      })()),
    exitCode: 0,
  };
  // Commander's own usage errors, as one line like ours: "llm-size: error: unknown command
  // 'estimat'; did you mean estimate?"
  // Help that commander writes as an error (`llm-size`, `llm-size presets` with no subcommand)
  // is kept here and printed on stdout with exit 0, as --help does.
  let helpAsError = '';
  const output = {
    writeOut: (s: string) => (stdout += s),
    writeErr: (s: string) => (helpAsError += s),
    outputError: (s: string, write: (s: string) => void) => {
      if (write === output.writeErr) io.err(`llm-size: ${oneLine(s.trim().replace(/\s*\n\(Did you mean (.*)\?\)/, '; did you mean $1?'))}\n`);
      else write(s);
    },
  };
  const program = newProgram()
    .exitOverride()
    .configureOutput(output)
    .hook('preAction', (_program, action) => {
      quiet = action.optsWithGlobals().quiet === true;
      wide = action.optsWithGlobals().wide === true;
      presetFlag = action.opts().presets;
    });
  for (const name of commandsFor(argv)) program.addCommand((await COMMANDS[name]())(ctx));
  // every command, nested ones too (presets list), throws instead of exiting and writes through us
  const configure = (cmd: Command): void => {
    cmd.exitOverride().configureOutput(output);
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0 || e.code === 'commander.help') {
        io.out(stdout + helpAsError);
        return 0;
      }
      return 2;
    }
    if (e instanceof UserError) {
      io.err(`llm-size: ${e.message}\n`);
      return e.exitCode;
    }
    io.err(internalError(e, argv, io.env));
    return 70;
  }
  io.out(stdout);
  return ctx.exitCode;
}

/**
 * Exit 70: a bug, not bad input. One line asking for a report with the command line; the
 * stack only with LLM_SIZE_DEBUG=1 (a stack is noise to a user and leaks paths).
 */
export function internalError(e: unknown, argv: string[], env: Record<string, string | undefined>): string {
  const message = oneLine(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  const command = ['llm-size', ...argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`))].join(' ');
  const line = `llm-size: internal error (a bug in llm-size, not in your input): ${message}; please report it with the command line: ${oneLine(command)}\n`;
  return env.LLM_SIZE_DEBUG && env.LLM_SIZE_DEBUG !== '0' && e instanceof Error && e.stack ? `${line}${e.stack}\n` : line;
}

/**
 * Writes all of `text` to a file descriptor, synchronously and without a stream:
 * process.stdout and process.stderr load Node's stream (and, for a pipe or a terminal, net)
 * modules, milliseconds of a run that prints one document.
 */
function writeAll(fd: number, text: string): void {
  let bytes = Buffer.from(text, 'utf8');
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(fd, bytes));
    } catch (e) {
      // a non-blocking descriptor that is full: try again
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

/**
 * Whether stdout is a terminal, and how wide. Only a character device other than /dev/null
 * can be one, so pipes and files (what scripts and CI use) are told apart without loading the
 * terminal modules.
 */
function terminal(): { isTty: boolean; columns: number | undefined } {
  try {
    const out = fstatSync(1);
    if (!out.isCharacterDevice() || out.rdev === statSync('/dev/null').rdev) return { isTty: false, columns: undefined };
  } catch {
    // no stdout to stat, or no /dev/null (Windows): ask Node
  }
  return { isTty: process.stdout.isTTY === true, columns: process.stdout.columns };
}

/**
 * The process entry: argv, stdout, stderr and the exit code. bin/llm-size.js calls it through
 * the bundle (scripts/bundle.ts); importing this module runs nothing.
 */
export async function main(): Promise<void> {
  const { isTty, columns } = terminal();
  // a command that is a short burst over much code runs faster without TurboFan (src/jit.ts)
  if (INTERPRETED_COMMANDS.has(process.argv[2] ?? '')) interpretOnly();
  const code = await run(process.argv.slice(2), {
    out: (s) => {
      try {
        writeAll(1, s);
      } catch (e) {
        // A reader that stops early (`llm-size ... | head`) closes the pipe: stop quietly, as cat does.
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') process.exit(0);
        throw e;
      }
    },
    err: (s) => {
      try {
        writeAll(2, s);
      } catch {
        // nowhere left to report to
      }
    },
    env: process.env,
    isTty,
    columns,
  });
  process.exitCode = code;
}
