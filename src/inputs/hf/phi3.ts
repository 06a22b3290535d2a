import { everyLayerWindow, readDecoder } from './decoder.js';
import type { FamilyReader } from './reader.js';

/** configuration_phi3.py (Phi-3, Phi-3.5-mini, Phi-4): fused qkv_proj and gate_up_proj, sliding_window on every layer. */
export const phi3: FamilyReader = (r, n) => everyLayerWindow(r, { ...readDecoder(r, n), fusedQkv: true });
