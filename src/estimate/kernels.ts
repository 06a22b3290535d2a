import type { EngineSpec, KernelRule } from '../inputs/engine.js';
import type { HardwareSpec } from '../inputs/hardware.js';
import type { Format } from '../inputs/precision.js';
import { once } from './once.js';

/**
 * Which kernel an engine version runs a weight format with on a device, as the engine's source
 * decides it by architecture (presets/engines supports.byArchitecture): the format's own kernel
 * (`native`: fp8 W8A8 on sm_89+, NVFP4 W4A4 on sm_100+), a weight-only kernel that dequantizes
 * to the activation type (`weight-only`: vLLM's FP8 / FP4 Marlin on Ampere and Hopper), or none
 * (vLLM's mxfp4 needs compute capability 8.0: Mxfp4Config.get_min_capability). Rules under `*`
 * bind every format (TensorRT-LLM runs on Ampere and later only). A device without a known
 * architecture (a user preset that does not state one) is not checked. Pure.
 */

export type KernelKind = 'native' | 'weight-only';

export type FormatKernel =
  | { ok: true; kernel: KernelKind; via?: string; source?: string }
  | { ok: false; why: string };

/** gptq-int4-g64 -> gptq-int4, bf16+2:4 -> bf16: the format an engine loads. */
export const baseFormat = (f: Format): string => f.id.replace(/\+.*$/, '').replace(/-g\d+$/, '');

/** "compute capability 8.9 (sm_89)" from 89. */
const capability = (c: number): string => `compute capability ${Math.floor(c / 10)}.${c % 10}`;

/** A device's architecture in words: "Hopper, sm_90". */
export const archLabel = (hw: HardwareSpec): string => (hw.architecture ? `${hw.architecture.name}, ${hw.architecture.id}` : 'architecture unknown');

const matches = (r: KernelRule, hw: HardwareSpec): boolean => {
  if (r.minCapability !== undefined) return hw.vendor === 'nvidia' && hw.architecture?.capability !== undefined && hw.architecture.capability >= r.minCapability;
  if (r.arch) return hw.architecture !== undefined && r.arch.includes(hw.architecture.id);
  return true;
};

/** What the rules accept, in words: "NVIDIA compute capability 8.0+ or AMD gfx942, gfx950". */
function accepted(rules: KernelRule[]): string {
  const caps = rules.flatMap((r) => (r.minCapability !== undefined ? [r.minCapability] : []));
  const archs = [...new Set(rules.flatMap((r) => r.arch ?? []))];
  return [...(caps.length ? [`NVIDIA ${capability(Math.min(...caps))}+`] : []), ...(archs.length ? [archs.join(', ')] : [])].join(' or ');
}

/**
 * The kernel `e` runs weights of `format` (a base format id, or a Format) with on `hw`.
 * @example formatKernel(vllm, t4, 'mxfp4') // { ok: false, why: 'vLLM 0.21 runs mxfp4 weights on NVIDIA compute capability 8.0+ or gfx942, gfx950 only; NVIDIA T4 16GB is Turing, sm_75' }
 */
export function formatKernel(e: EngineSpec, hw: HardwareSpec, format: string | Format): FormatKernel {
  const id = typeof format === 'string' ? format : baseFormat(format);
  const kernels = e.supports.byArchitecture;
  if (!kernels || !hw.architecture) return { ok: true, kernel: 'native' };
  const engine = `${e.name} ${e.version}`;
  const any = kernels['*'];
  if (any && !any.some((r) => matches(r, hw))) return { ok: false, why: `${engine} runs on ${accepted(any)} only; ${hw.name} is ${archLabel(hw)}` };
  const rules = kernels[id];
  if (!rules) return { ok: true, kernel: 'native' };
  const rule = rules.find((r) => matches(r, hw));
  if (!rule) return { ok: false, why: `${engine} runs ${id} weights on ${accepted(rules)} only; ${hw.name} is ${archLabel(hw)}` };
  return { ok: true, kernel: rule.kernel, ...(rule.via ? { via: rule.via } : {}), source: rule.source };
}

/**
 * True when the engine runs the format below its own compute class: weight-only where the
 * format multiplies at its own precision (fp8, int8, nvfp4), so the matrix products run at the
 * activation type's peak. Formats that are weight-only by design (int4, AWQ, MXFP4) are not
 * a fallback.
 */
export const isFallback = (k: FormatKernel, f: Format): boolean => k.ok && k.kernel === 'weight-only' && f.compute !== 'activation';

/** The format as a weight-only kernel runs it: same bytes, 16-bit matrix products (peak.ts resolves the activation type's peak). */
export const weightOnly: (f: Format) => Format = once((f: Format): Format => ({ ...f, compute: 'activation' }));
