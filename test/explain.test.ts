import { describe, expect, it } from 'vitest';
import { cli, expectBadInput } from './helpers.js';

const base = ['estimate', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm'];
/** The explanation printed after the table: the lines after the table's last border. */
const explanation = (stdout: string): string[] => stdout.slice(stdout.lastIndexOf('└')).split('\n').slice(1).filter((l) => /^ *[a-z]+\.[A-Za-z0-9.]+ = /.test(l));

describe('--explain <figure>', () => {
  it('--explain latency.ttft prints only that figure\'s tree: formula, inputs, parts and sources, recursively', async () => {
    const r = await cli([...base, '--explain', 'latency.ttft']);
    expect(r.code).toBe(0);
    const heads = explanation(r.stdout);
    // one root, latency.ttft; below it its parts and theirs, indented
    expect(heads.filter((l) => !l.startsWith(' '))).toEqual([expect.stringMatching(/^latency\.ttft = \d/)]);
    const ids = heads.map((l) => l.trim().split(' ')[0]);
    expect(ids).toEqual(expect.arrayContaining(['latency.prefillRoofline', 'latency.prefillComm', 'latency.prefillOverhead', 'latency.prefillCompute', 'latency.prefillMemory', 'latency.prefillCommTp']));
    // and the efficiencies the compute and memory times were taken at; nothing of decode, memory or cost
    expect(ids.every((id) => id.startsWith('latency.prefill') || id === 'latency.ttft' || id.startsWith('efficiency.prefill'))).toBe(true);
    const tail = r.stdout.slice(r.stdout.lastIndexOf('latency.ttft ='));
    expect(tail).toMatch(/^ {2}formula: latency\.prefillRoofline \+ latency\.prefillDequantize \+ latency\.prefillAttentionScores \+ latency\.prefillComm \+ latency\.prefillOverhead$/m);
    expect(tail).toMatch(/^ {2}source: {2}roofline \+ communication \+ overhead$/m);
    expect(tail).not.toMatch(/memory\.weights =/);
  });

  it('follows inputs that are other figures (cost per output token from the hourly cost and TPOT)', async () => {
    const r = await cli([...base, '--explain', 'cost.usdPerMillionOutputTokens']);
    const ids = explanation(r.stdout).map((l) => l.trim().split(' ')[0]);
    expect(ids.slice(0, 3)).toEqual(['cost.usdPerMillionOutputTokens', 'cost.usdPerHour', 'latency.tpot']);
  });

  it('a prefix explains every figure under it, each once', async () => {
    const r = await cli([...base, '--explain', 'latency']);
    const ids = explanation(r.stdout).map((l) => l.trim().split(' ')[0]);
    expect(ids).toEqual(expect.arrayContaining(['latency.ttft', 'latency.tpot', 'latency.e2e']));
    const roots = explanation(r.stdout).filter((l) => !l.startsWith(' ')).map((l) => l.split(' ')[0]);
    expect(roots.every((id) => id.startsWith('latency.'))).toBe(true);
    expect(new Set(roots).size).toBe(roots.length);
    expect(r.stdout).not.toMatch(/^latency\.e2e = .*\n(?:.*\n)*^latency\.e2e = /m);
  });

  it('plain --explain still explains every figure', async () => {
    const r = await cli([...base, '--explain']);
    expect(r.stdout).toMatch(/^memory\.weights = /m);
    expect(r.stdout).toMatch(/^latency\.ttft = /m);
  });

  it('an unknown figure is bad input, with the closest ids', async () => {
    await expectBadInput([...base, '--explain', 'latncy.ttft'], /--explain: no figure "latncy\.ttft"; did you mean latency\.ttft/);
  });

  it('with a machine format the output stays one document', async () => {
    const r = await cli([...base, '--explain', 'latency.ttft', '--format', 'json']);
    expect(JSON.parse(r.stdout).figures['latency.ttft']).toBeDefined();
  });

  it('plan --explain <figure> explains the top pick\'s figure', async () => {
    const r = await cli(['plan', '--model', 'llama-3.1-8b', '--qps', '2', '--tpot', '100ms', '--top', '1', '--explain', 'load.usdPerMillionOutputTokens']);
    expect(r.stdout).toMatch(/^load\.usdPerMillionOutputTokens = /m);
    expect(r.stdout).toMatch(/^ {4}load\.usdPerHour = /m);
  });
});
