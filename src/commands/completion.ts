import { Argument, Command } from 'commander';
import type { Context } from './context.js';

/**
 * `llm-size completion bash|zsh|fish`: a completion script generated from the command tree
 * itself (commands, options, choices), so it never falls behind the CLI. Preset names for
 * --model and --gpu are the ones known when the script is generated.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What a value position completes to: fixed words, file names, or nothing in particular. */
type Values = { words: string[] } | 'file' | 'none';

interface OptionSpec {
  names: string[];
  description: string;
  /** undefined: a switch that takes no value */
  values?: Values;
}

interface CommandSpec {
  /** "presets list" */
  path: string;
  description: string;
  options: OptionSpec[];
  subcommands: string[];
  /** completions for the first positional argument */
  argument?: Values;
}

const FILE_ARG = /file|deployments|path|dir|config/i;

/** Walks the program into one flat spec per command path. */
export function commandSpecs(program: Command, presets: { model: string[]; gpu: string[] }): CommandSpec[] {
  const specs: CommandSpec[] = [];
  const valuesOf = (flags: string, long: string | undefined, choices: string[] | undefined): Values => {
    if (choices?.length) return { words: choices };
    if (long === '--model') return { words: presets.model };
    if (long === '--gpu') return { words: presets.gpu };
    return FILE_ARG.test(flags) ? 'file' : 'none';
  };
  const argumentValues = (arg: Argument | undefined): Values | undefined => {
    if (!arg) return undefined;
    if (arg.argChoices?.length) return { words: arg.argChoices };
    return FILE_ARG.test(`${arg.name()} ${arg.description}`) ? 'file' : 'none';
  };
  const walk = (cmd: Command, path: string) => {
    const options: OptionSpec[] = cmd.options.map((o) => ({
      names: [o.long, o.short].filter((n): n is string => Boolean(n)),
      description: o.description,
      values: o.required || o.optional ? valuesOf(o.flags, o.long, o.argChoices) : undefined,
    }));
    options.push({ names: ['--help', '-h'], description: 'show help' });
    specs.push({ path, description: cmd.description(), options, subcommands: cmd.commands.map((c) => c.name()), argument: argumentValues(cmd.registeredArguments[0]) });
    for (const sub of cmd.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  return specs;
}

const words = (list: string[]): string => list.join(' ');

export function bashScript(specs: CommandSpec[]): string {
  const paths = specs.filter((s) => s.path).map((s) => `"${s.path}"`);
  const branch = (s: CommandSpec): string => {
    const valueCases = s.options
      .filter((o) => o.values)
      .map((o) => {
        const v = o.values!;
        const action = v === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))' : v === 'none' ? 'COMPREPLY=()' : `COMPREPLY=($(compgen -W "${words(v.words)}" -- "$cur"))`;
        return `        ${o.names.join('|')}) ${action}; return ;;`;
      });
    const positional = s.subcommands.length ? `compgen -W "${words(s.subcommands)}" -- "$cur"` : s.argument === 'file' ? 'compgen -f -- "$cur"' : s.argument && s.argument !== 'none' ? `compgen -W "${words(s.argument.words)}" -- "$cur"` : '';
    return `    "${s.path}")
      case "$prev" in
${valueCases.join('\n')}
      esac
      if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "${words(s.options.flatMap((o) => o.names))}" -- "$cur"))
      else COMPREPLY=(${positional ? `$(${positional})` : ''}); fi
      ;;`;
  };
  return `# llm-size completion for bash. Load it with:  eval "$(llm-size completion bash)"
# or save it:  llm-size completion bash > ~/.local/share/bash-completion/completions/llm-size
_llm_size() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" next i
  for ((i = 1; i < COMP_CWORD; i++)); do
    next="\${path:+$path }\${COMP_WORDS[i]}"
    case "$next" in
      ${paths.join('|')}) path="$next" ;;
    esac
  done
  case "$path" in
${specs.map(branch).join('\n')}
  esac
}
complete -o default -F _llm_size llm-size
`;
}

export function zshScript(specs: CommandSpec[]): string {
  const paths = specs.filter((s) => s.path).map((s) => `"${s.path}"`);
  const branch = (s: CommandSpec): string => {
    const valueCases = s.options
      .filter((o) => o.values)
      .map((o) => {
        const v = o.values!;
        const action = v === 'file' ? '_files' : v === 'none' ? ':' : `compadd -- ${words(v.words)}`;
        return `        ${o.names.join('|')}) ${action}; return ;;`;
      });
    const positional = s.subcommands.length ? `compadd -- ${words(s.subcommands)}` : s.argument === 'file' ? '_files' : s.argument && s.argument !== 'none' ? `compadd -- ${words(s.argument.words)}` : ':';
    return `    "${s.path}")
      case "$prev" in
${valueCases.join('\n')}
      esac
      if [[ "$cur" == -* ]]; then compadd -- ${words(s.options.flatMap((o) => o.names))}
      else ${positional}; fi
      ;;`;
  };
  return `#compdef llm-size
# llm-size completion for zsh. Load it with:  source <(llm-size completion zsh)
# or save it as _llm-size in a directory on $fpath.
_llm_size() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}" path_="" next i
  for ((i = 2; i < CURRENT; i++)); do
    next="\${path_:+$path_ }\${words[i]}"
    case "$next" in
      ${paths.join('|')}) path_="$next" ;;
    esac
  done
  case "$path_" in
${specs.map((s) => branch(s)).join('\n')}
  esac
}
compdef _llm_size llm-size
`;
}

const fishQuote = (text: string): string => `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

export function fishScript(specs: CommandSpec[]): string {
  const lines = ['# llm-size completion for fish. Load it with:  llm-size completion fish | source', '# or save it:  llm-size completion fish > ~/.config/fish/completions/llm-size.fish', 'complete -c llm-size -f'];
  for (const s of specs) {
    // inside this command's path, and not yet inside one of its subcommands
    const inside = (s.path ? s.path.split(' ') : []).map((p) => `__fish_seen_subcommand_from ${p}`);
    const notDeeper = s.subcommands.length ? [`not __fish_seen_subcommand_from ${words(s.subcommands)}`] : [];
    const condition = [...inside, ...notDeeper].join('; and ') || '__fish_use_subcommand';
    for (const sub of s.subcommands) {
      const desc = specs.find((x) => x.path === (s.path ? `${s.path} ${sub}` : sub))?.description ?? '';
      lines.push(`complete -c llm-size -n ${fishQuote(condition)} -a ${sub} -d ${fishQuote(desc)}`);
    }
    for (const o of s.options) {
      const long = o.names.find((n) => n.startsWith('--'))?.slice(2);
      const short = o.names.find((n) => /^-[^-]$/.test(n))?.slice(1);
      const flags = [long && `-l ${long}`, short && `-s ${short}`].filter(Boolean).join(' ');
      const v = o.values;
      const value = v === undefined ? '' : v === 'file' ? ' -r -F' : v === 'none' ? ' -x' : ` -x -a ${fishQuote(words(v.words))}`;
      lines.push(`complete -c llm-size -n ${fishQuote(condition)} ${flags}${value} -d ${fishQuote(o.description)}`);
    }
    if (!s.subcommands.length && s.argument) {
      const a = s.argument;
      if (a === 'file') lines.push(`complete -c llm-size -n ${fishQuote(condition)} -F`);
      else if (a !== 'none') lines.push(`complete -c llm-size -n ${fishQuote(condition)} -a ${fishQuote(words(a.words))}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionCommand(ctx: Context): Command {
  return new Command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', SHELLS.join(', ')).choices(SHELLS))
    .addHelpText('after', `
Examples:
  eval "$(llm-size completion bash)"            # in ~/.bashrc
  source <(llm-size completion zsh)             # in ~/.zshrc
  llm-size completion fish | source             # in ~/.config/fish/config.fish`)
    .action(async (shell: Shell, _opts: unknown, cmd: Command) => {
      let program = cmd;
      while (program.parent) program = program.parent;
      const catalog = await ctx.catalog();
      const specs = commandSpecs(program, { model: catalog.models.map((m) => m.id), gpu: catalog.hardware.map((h) => h.id) });
      ctx.out(shell === 'bash' ? bashScript(specs) : shell === 'zsh' ? zshScript(specs) : fishScript(specs));
    });
}
