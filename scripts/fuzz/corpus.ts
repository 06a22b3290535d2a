import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { packageRoot } from '../../src/paths.js';

/**
 * A hostile file corpus for the fuzz runs, written to a fresh temporary folder: spec files,
 * config.json files, `check` files and user preset folders, each valid or broken in one of the
 * ways issue 11 found (alias bombs, unknown tags, deep nesting, a symlink loop, a directory
 * where a file belongs, a file over the size limit, an engine profile in a user folder,
 * config.json bodies that are no usable config), plus files made by mutating valid ones.
 */

export interface Corpus {
  dir: string;
  /** every file and folder a flag or argument may name */
  paths: string[];
  /** valid texts to mutate, by the flag that reads them */
  seeds: { flag: '--spec' | '--hf-config' | 'check' | '--presets'; ext: string; text: string }[];
}

const root = packageRoot();
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

export function makeCorpus(): Corpus {
  const dir = mkdtempSync(join(tmpdir(), 'llm-size-fuzz-'));
  const paths: string[] = [];
  const file = (name: string, text: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    paths.push(path);
    return path;
  };
  const llamaConfig = read('test/fixtures/llama-3.1-8b.config.json');
  const deployments = read('examples/deployments.yaml');
  // spec files
  file('spec.yaml', 'model: llama-3.1-8b\ngpu: h100-sxm\nbatch: 8\ncontext: 8k\n');
  file('spec-tag.yaml', 'model: llama-3.1-8b\nbatch: !custom 8\n');
  file('spec-alias-bomb.yaml', `a: &a ["x","x","x","x","x","x","x","x","x"]\n${Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`).join('\n')}\n`);
  file('spec-deep.yaml', `${'['.repeat(5000)}${']'.repeat(5000)}\n`);
  file('spec-deep.json', `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`);
  file('spec-list.yaml', '- model\n- gpu\n');
  file('spec-object-value.yaml', 'model: { a: 1 }\n');
  file('spec-binary.yaml', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x1b, 0x5b]));
  file('spec-empty.yaml', '');
  file('spec-duplicate.yaml', 'model: llama-3.1-8b\nmodel: llama-3.1-70b\n');
  file('spec-huge-number.yaml', 'model: llama-3.1-8b\nbatch: 1e308\ncontext: 99999999999999999999\n');
  // config.json bodies
  file('config.json', llamaConfig);
  file('config-null.json', 'null');
  file('config-array.json', '[]');
  file('config-string.json', '"config"');
  const config = JSON.parse(llamaConfig) as Record<string, unknown>;
  file('config-negative-layers.json', JSON.stringify({ ...config, num_hidden_layers: -5 }));
  file('config-zero-layers.json', JSON.stringify({ ...config, num_hidden_layers: 0 }));
  file('config-huge.json', JSON.stringify({ ...config, hidden_size: 1e300, intermediate_size: 1e300 }));
  file('config-huge-layers.json', JSON.stringify({ ...config, model_type: 'qwen2_moe', num_hidden_layers: 1e12, num_experts: 4, num_experts_per_tok: 2, moe_intermediate_size: 128 }));
  file('config-kv-not-dividing.json', JSON.stringify({ ...config, num_key_value_heads: 7 }));
  file('config-proto.json', JSON.stringify({ ...config, model_type: 'constructor' }));
  file('config-moe-topk.json', JSON.stringify({ ...config, model_type: 'mixtral', num_local_experts: 2, num_experts_per_tok: 9 }));
  // check files
  file('deployments.yaml', deployments);
  file('deployments-bad-threshold.yaml', 'deployments:\n  a:\n    model: llama-3.1-8b\n    assert: { ttft: "<= 1e400ms", constructor: ">= 1" }\n');
  // files that are not files
  const big = join(dir, 'big.yaml');
  writeFileSync(big, `model: llama-3.1-8b\n#${'x'.repeat(11 * 1024 * 1024)}\n`);
  paths.push(big);
  mkdirSync(join(dir, 'folder.yaml'));
  paths.push(join(dir, 'folder.yaml'));
  paths.push(join(dir, 'missing.yaml'), '/dev/null', '/proc/self/status', dir);
  // preset folders: valid, an engine profile copied in, a link loop, a dangling link, broken files
  const presets = join(dir, 'presets');
  mkdirSync(join(presets, 'hardware'), { recursive: true });
  copyFileSync(new URL('test/fixtures/user-presets/good/lab-gpu.yaml', root), join(presets, 'hardware', 'lab-gpu.yaml'));
  copyFileSync(new URL('presets/engines/vllm-0.21.yaml', root), join(presets, 'vllm-copy.yaml'));
  paths.push(presets);
  const loop = join(dir, 'presets-loop');
  mkdirSync(loop);
  symlinkSync(loop, join(loop, 'again'));
  symlinkSync(join(loop, 'self.yaml'), join(loop, 'self.yaml'));
  symlinkSync(join(dir, 'nowhere.yaml'), join(loop, 'dangling.yaml'));
  paths.push(loop, join(loop, 'self.yaml'));
  const broken = join(dir, 'presets-broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'bomb.yaml'), read('test/fixtures/user-presets/good/lab-gpu.yaml').replace('id:', 'x: &x [1,2]\ny: [*x,*x,*x]\nid:'));
  writeFileSync(join(broken, 'tag.yaml'), 'id: !custom lab\n');
  writeFileSync(join(broken, 'model.yaml'), `id: tiny\nname: Tiny\nsource: test\nconfig: ${JSON.stringify({ ...config, num_hidden_layers: 0 })}\n`);
  paths.push(broken);
  return {
    dir,
    paths,
    seeds: [
      { flag: '--spec', ext: 'yaml', text: 'model: llama-3.1-8b\ngpu: h100-sxm\nbatch: 8\ncontext: 8k\ninputTokens: 2048\noutputTokens: 128\nprice: 2.5\n' },
      { flag: '--hf-config', ext: 'json', text: llamaConfig },
      { flag: 'check', ext: 'yaml', text: deployments },
      { flag: '--presets', ext: 'yaml', text: read('test/fixtures/user-presets/good/lab-gpu.yaml') },
    ],
  };
}

const TOKENS = ['0', '-1', '1e308', '5e-324', '1e21', 'NaN', '.inf', '-.nan', 'null', '~', '"', "'", '&a', '*a', '!custom', '{', '[', ']', '}', ':', '- ', '\t', '\u0000', '\u2028', '🦙', 'constructor', '__proto__', '4294967296', '7b', '32k'];

/**
 * A valid file made hostile: numbers replaced by extreme ones, lines dropped or repeated,
 * YAML syntax and garbage inserted. Returns the mutated text.
 */
export function mutationArb(text: string): fc.Arbitrary<string> {
  const lines = text.split('\n');
  const edit = fc.oneof(
    fc.tuple(fc.nat(lines.length - 1), fc.constantFrom(...TOKENS)).map(([i, t]) => (ls: string[]) => ls.map((l, j) => (j === i ? l.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/, t) : l))),
    fc.nat(lines.length - 1).map((i) => (ls: string[]) => ls.filter((_, j) => j !== i)),
    fc.nat(lines.length - 1).map((i) => (ls: string[]) => (i < ls.length ? [...ls.slice(0, i + 1), ls[i], ...ls.slice(i + 1)] : ls)),
    fc.tuple(fc.nat(lines.length - 1), fc.constantFrom(...TOKENS)).map(([i, t]) => (ls: string[]) => ls.map((l, j) => (j === i ? `${l}${t}` : l))),
  );
  return fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => edits.reduce((ls, e) => e(ls), lines).join('\n'));
}
