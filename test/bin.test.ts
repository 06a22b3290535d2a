import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const bin = new URL('../bin/llm-size.js', import.meta.url).pathname;

// Runs the built binary, as a user or a script would (npm test builds first).
describe('the built llm-size binary', () => {
  it('prints JSON on stdout alone and exits 0', () => {
    const stdout = execFileSync(process.execPath, [bin, 'estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--format', 'json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(JSON.parse(stdout).figures['params.total'].value).toBe(8_030_261_248);
  });

  it('exits 2 on bad input with one line on stderr and no stack trace', () => {
    const r = spawnSync(process.execPath, [bin, 'estimate', '--model', 'nope-7b'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help lists the estimate command', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/estimate/);
  });
});
