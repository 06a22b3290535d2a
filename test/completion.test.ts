import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli } from './helpers.js';

/** Sources the generated bash script and asks it to complete `line` (cursor at the end). */
function bashComplete(script: string, line: string): string[] {
  const words = line.split(' ');
  const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _llm_size; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', program], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('llm-size completion', () => {
  it('bash: completes commands, subcommands, options, choices and preset names', async () => {
    const r = await cli(['completion', 'bash']);
    expect(r.code).toBe(0);
    const script = r.stdout;
    expect(spawnSync('bash', ['-n'], { input: script }).status).toBe(0);
    expect(bashComplete(script, 'llm-size sw')).toEqual(['sweep']);
    expect(bashComplete(script, 'llm-size ')).toEqual(expect.arrayContaining(['estimate', 'check', 'sweep', 'completion']));
    expect(bashComplete(script, 'llm-size estimate --format ')).toEqual(['table', 'json', 'yaml', 'csv', 'markdown']);
    expect(bashComplete(script, 'llm-size sweep --format s')).toEqual(['svg']);
    expect(bashComplete(script, 'llm-size estimate --gpu h100-s')).toEqual(['h100-sxm']);
    expect(bashComplete(script, 'llm-size estimate --model llama-3.1-8')).toContain('llama-3.1-8b');
    expect(bashComplete(script, 'llm-size estimate --batch 8 --expl')).toEqual(['--explain']);
    expect(bashComplete(script, 'llm-size presets l')).toEqual(['list']);
    expect(bashComplete(script, 'llm-size completion ')).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete(script, 'llm-size --qu')).toEqual(['--quiet']);
  });

  it('zsh: a #compdef function with the same words', async () => {
    const r = await cli(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#compdef llm-size\n')).toBe(true);
    expect(r.stdout).toMatch(/--format\) compadd -- table json yaml csv markdown; return ;;/);
    expect(r.stdout).toMatch(/compdef _llm_size llm-size/);
    // bash can parse it too: the zsh-only parts are builtins, not syntax
    expect(spawnSync('bash', ['-n'], { input: r.stdout }).status).toBe(0);
  });

  it('fish: complete lines per command, with descriptions', async () => {
    const r = await cli(['completion', 'fish']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^complete -c llm-size -n '__fish_seen_subcommand_from estimate' -l format -x -a 'table json yaml csv markdown' -d 'output format/m);
    expect(r.stdout).toMatch(/^complete -c llm-size -n '__fish_seen_subcommand_from presets; and __fish_seen_subcommand_from list' /m);
    expect(r.stdout).toMatch(/^complete -c llm-size -n '__fish_seen_subcommand_from check' -F$/m);
    expect(r.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('#') || l.startsWith('complete -c llm-size'))).toBe(true);
  });

  it('an unknown shell exits 2', async () => {
    const r = await cli(['completion', 'powershell']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are bash, zsh, fish/);
  });
});

describe('--help for every command shows examples', () => {
  it.each(['estimate', 'train', 'check', 'sweep', 'presets list', 'presets show', 'presets validate', 'schema', 'completion'])('%s --help', async (name) => {
    const r = await cli([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples?:/);
  });
});
