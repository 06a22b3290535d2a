import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run build` runs dist/scripts/build-presets.js over presets/: a broken built-in preset must
// fail the build, not be left out of the shipped catalogue with a line on stderr.
describe('the build validates the built-in presets', () => {
  const script = join(process.cwd(), 'dist/scripts/build-presets.js');
  const build = (dir: string) => spawnSync(process.execPath, [script, dir, join(dir, 'out.jsonl')], { encoding: 'utf8' });

  it('an invalid preset file fails it (exit 1) naming the file; the valid copy builds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-size-presets-'));
    try {
      cpSync(join(process.cwd(), 'presets'), dir, { recursive: true });
      expect(build(dir).status).toBe(0);
      // a hardware preset whose memory capacity has no unit
      writeFileSync(join(dir, 'hardware', 'broken.yaml'), 'id: broken\nname: Broken\nvendor: nvidia\nkind: gpu\nmemory:\n  capacity: { value: 80, source: s }\n');
      const r = build(dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/broken\.yaml/);
      expect(r.stderr).toMatch(/build failed: \d+ problem\(s\) in the built-in presets/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
