#!/usr/bin/env python3
"""Measure the prefill and decode step time and the peak memory of decoder models built from
their config with random weights (nothing is downloaded), and write the results as validation
cases (validation/README.md) for llm-size's accuracy suite.

    python3 scripts/measure/measure.py --dry-run              # print the plan; needs no torch
    python3 scripts/measure/measure.py --out /tmp/h200.yaml   # on a CUDA machine: ~4-6 min on one H200
    python3 scripts/measure/measure.py --models llama-3.2-1b --check   # tiny shapes on the CPU: checks the code

Method ("torch-graph", an engine reduced to its kernels): a minimal forward pass written here in
PyTorch (Llama / Qwen2 / Qwen3 / Qwen3-MoE layers: RMSNorm, fused QKV projection, rotary
embedding, grouped-query attention (prompt: torch's scaled_dot_product_attention, FlashAttention
with enable_gqa; decode: two batched GEMMs over the cache that read each K and V once for the
query heads sharing them), SwiGLU MLP; MoE layers route each token to
its top-k experts and run the experts as grouped GEMMs, torch._grouped_mm), bf16 weights and KV
cache, a preallocated KV cache written in place. Each measured step is captured once as a CUDA
graph and replayed, so the time is the GPU's (kernels and the gaps between them) without Python,
sampling or scheduling:
  - prefill: one forward pass over batch x context prompt tokens from position 0, logits for the
    last position only (as engines do); median of the timed replays;
  - decode: one forward pass of one token per sequence at position `context` (attending to
    context + 1 keys), replayed `--decode-steps` times; the mean per replay;
  - peak memory: torch.cuda.max_memory_allocated() over the prefill (weights, KV cache for the
    prompt, transient activations; no CUDA context).
Routing on random weights is close to uniform, which is what llm-size's expert-coverage model
assumes. Every case records the GPU, torch and CUDA versions and the date. Configs come from
presets/models/<id>.yaml (the config: block is the model's config.json, verbatim). Results are
written after every configuration, so a run cut short keeps what it measured.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import pathlib
import sys
import time
from types import SimpleNamespace

ROOT = pathlib.Path(__file__).resolve().parents[2]

# What to measure: model -> prefill shapes and decode shapes as (batch, context). The decode
# shapes reach high batch x long context, where KV reads dominate the step.
DEFAULT_PLAN: dict[str, dict[str, list[tuple[int, int]]]] = {
    "llama-3.1-8b": {
        "prefill": [(1, 128), (1, 512), (1, 2048), (1, 8192), (1, 32768), (8, 2048)],
        "decode": [(1, 512), (1, 8192), (1, 32768), (8, 4096), (16, 8192), (32, 4096), (64, 4096), (32, 16384), (128, 2048), (256, 1024), (8, 32768)],
    },
    "qwen3-30b-a3b": {"prefill": [(1, 512), (1, 2048), (1, 8192), (4, 8192)], "decode": [(1, 1024), (8, 1024), (32, 2048), (128, 1024), (256, 1024)]},
    "llama-3.2-1b": {"prefill": [(1, 512), (1, 4096), (8, 4096)], "decode": [(1, 512), (1, 8192), (32, 4096), (128, 2048)]},
    "qwen2.5-32b": {"prefill": [(1, 2048), (1, 8192)], "decode": [(1, 1024), (16, 4096), (64, 2048)]},
    "qwen2.5-7b": {"prefill": [(1, 2048), (1, 16384)], "decode": [(1, 1024), (64, 4096)]},
}

# torch.cuda.get_device_name() -> llm-size hardware preset id (--hardware overrides)
GPU_PRESETS = [
    ("H200 NVL", "h200-nvl"), ("H200", "h200"), ("H100 NVL", "h100-nvl"), ("H100 PCIe", "h100-pcie"),
    ("H100", "h100-sxm"), ("H800", "h800"), ("A100-SXM4-80GB", "a100-80gb"), ("A100 80GB PCIe", "a100-80gb-pcie"),
    ("A100-SXM4-40GB", "a100-40gb"), ("L40S", "l40s"), ("L4", "l4"), ("A10G", "a10g"), ("RTX 4090", "rtx-4090"),
    ("RTX 3090", "rtx-3090"), ("B200", "b200"), ("MI300X", "mi300x"),
]


def load_config(model_id: str) -> dict:
    """The config.json of a model preset (presets/models/<id>.yaml, `config:` block)."""
    path = ROOT / "presets" / "models" / f"{model_id}.yaml"
    if not path.exists():
        sys.exit(f"measure.py: no model preset {path}")
    import yaml  # PyYAML

    return yaml.safe_load(path.read_text())["config"]


class Shape:
    """The parts of a config.json the forward pass needs (Llama, Qwen2, Qwen3, Qwen3-MoE)."""

    def __init__(self, c: dict):
        self.type = c["model_type"]
        if self.type not in ("llama", "qwen2", "qwen3", "qwen3_moe", "mistral"):
            raise ValueError(f"model_type {self.type} is not supported by this forward pass")
        self.hidden = c["hidden_size"]
        self.layers = c["num_hidden_layers"]
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads", self.heads)
        self.head_dim = c.get("head_dim") or self.hidden // self.heads
        self.ffn = c["intermediate_size"]
        self.vocab = c["vocab_size"]
        self.tied = bool(c.get("tie_word_embeddings", False))
        self.qkv_bias = self.type == "qwen2" or bool(c.get("attention_bias", False))
        self.qk_norm = self.type in ("qwen3", "qwen3_moe")
        self.eps = float(c.get("rms_norm_eps", 1e-6))  # PyYAML reads 1e-05 as a string
        self.theta = float(c.get("rope_theta", 10000.0))
        self.experts = c.get("num_experts", 0) if self.type == "qwen3_moe" else 0
        self.top_k = c.get("num_experts_per_tok", 0)
        self.expert_ffn = c.get("moe_intermediate_size", 0)
        self.norm_topk = bool(c.get("norm_topk_prob", True))
        only_dense = set(c.get("mlp_only_layers") or [])
        step = c.get("decoder_sparse_step", 1) or 1
        self.moe_layer = [self.experts > 0 and i not in only_dense and (i + 1) % step == 0 for i in range(self.layers)]

    def tiny(self) -> "Shape":
        """The same layer types at toy sizes (CPU check)."""
        s = Shape.__new__(Shape)
        s.__dict__.update(self.__dict__)
        s.hidden, s.heads, s.kv_heads, s.head_dim, s.ffn, s.vocab, s.layers = 64, 4, 2, 16, 96, 256, 2
        s.experts, s.expert_ffn = (8, 32) if self.experts else (0, 0)
        s.top_k = min(self.top_k, 2) if self.experts else 0
        s.moe_layer = [self.experts > 0] * 2
        return s

    def floor(self) -> "Shape":
        """The same layers, attention layout and expert routing (experts, top-k) at tiny widths:
        the same kernels with almost no work, timing the forward pass's per-kernel floor."""
        s = Shape.__new__(Shape)
        s.__dict__.update(self.__dict__)
        s.hidden, s.head_dim, s.ffn, s.vocab = 64, 16, 64, 256
        s.heads, s.kv_heads = 4, max(1, 4 * self.kv_heads // self.heads)
        s.expert_ffn = 16 if self.experts else 0
        return s


def forward_pass(cpu: bool):
    """The forward pass's torch code (imported by scripts/measure/measure_levers.py): returns a
    namespace with torch, F and Model (Model(shape, device, dtype).forward(ids, kv, pos))."""
    import torch
    import torch.nn.functional as F

    def rmsnorm(x, w, eps):
        if hasattr(F, "rms_norm"):  # one kernel where torch fuses it
            return F.rms_norm(x, (x.shape[-1],), w, eps)
        v = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(v + eps)).to(x.dtype) * w

    def rotary(x, cos, sin):
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)

    native_gqa = [True]

    def attend_prompt(q, k, v):
        """Causal attention over a prompt: FlashAttention with native GQA where this torch has it."""
        if native_gqa[0]:
            try:
                with sdpa_backends():
                    return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            except RuntimeError:
                native_gqa[0] = False  # then K/V are expanded per query head (a copy; small next to prefill compute)
                print("note: no FlashAttention with enable_gqa here; prompt K/V expanded per query head", flush=True)
        g = q.shape[1] // k.shape[1]
        with sdpa_backends():
            return F.scaled_dot_product_attention(q, k.repeat_interleave(g, 1), v.repeat_interleave(g, 1), is_causal=True)

    chunk_path = ["flash"]

    def attend_chunk(q, k, v):
        """t queries at the last t positions of s keys (a prompt's uncached tail over its cached prefix):
        causal with the diagonal at the bottom right (query i sees keys up to s - t + i), as FlashAttention
        aligns it for t < s (torch.nn.attention.bias.causal_lower_right); an explicit mask on the CPU."""
        t, s = q.shape[2], k.shape[2]
        if not cpu and torch.cuda.is_available():
            from torch.nn.attention.bias import causal_lower_right

            if chunk_path[0] == "flash":
                try:
                    with sdpa_backends():
                        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(t, s), enable_gqa=True)
                except (RuntimeError, TypeError) as e:
                    chunk_path[0] = "expanded"
                    print(f"note: no FlashAttention with a lower-right causal mask and native GQA here ({str(e)[:120]}); K/V expanded per query head", flush=True)
            g = q.shape[1] // k.shape[1]
            if chunk_path[0] == "expanded":
                try:
                    with sdpa_backends():
                        return F.scaled_dot_product_attention(q, k.repeat_interleave(g, 1), v.repeat_interleave(g, 1), attn_mask=causal_lower_right(t, s))
                except RuntimeError as e:
                    chunk_path[0] = "mask"
                    print(f"note: no FlashAttention with a lower-right causal mask here ({str(e)[:120]}); an explicit mask, any SDPA backend", flush=True)
        g = q.shape[1] // k.shape[1]
        mask = torch.ones(t, s, dtype=torch.bool, device=q.device).tril(s - t)
        return F.scaled_dot_product_attention(q, k.repeat_interleave(g, 1), v.repeat_interleave(g, 1), attn_mask=mask)

    flash_decode = [True]

    def attend_cache(q, k, v):
        """One query per sequence over the cache: FlashAttention (split over the keys, each K/V read
        once for the heads sharing it); else two batched GEMMs over the cache."""
        if flash_decode[0]:
            try:
                with sdpa_backends():
                    return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
            except RuntimeError:
                flash_decode[0] = False
                print("note: no FlashAttention decode with enable_gqa here; decode attention as two batched GEMMs", flush=True)
        b, h, _, d = q.shape
        kvh = k.shape[1]
        qg = q.reshape(b, kvh, h // kvh, d)
        scores = (qg @ k.transpose(-1, -2)).float() * (d ** -0.5)
        return (torch.softmax(scores, dim=-1).to(v.dtype) @ v).reshape(b, h, 1, d)

    def sdpa_backends():
        """Flash (or cuDNN) attention only on CUDA: never the math backend, which materializes the scores."""
        from contextlib import nullcontext

        if not torch.cuda.is_available() or cpu:
            return nullcontext()
        from torch.nn.attention import SDPBackend, sdpa_kernel

        return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.CUDNN_ATTENTION])

    def grouped_mm(a, b_t, offs, reference: bool):
        """a (tokens sorted by expert, K) x per-expert b_t (E, N, K)^T -> (tokens, N)."""
        if not reference:
            return torch._grouped_mm(a, b_t.transpose(-2, -1), offs=offs)
        out, start = [], 0
        for e, end in enumerate(offs.tolist()):
            out.append(a[start:end] @ b_t[e].t())
            start = end
        return torch.cat(out)

    class Model:
        def __init__(self, s: Shape, device, dtype, reference_moe=False):
            self.s, self.reference_moe = s, reference_moe
            g = torch.Generator(device=device).manual_seed(0)

            def w(*shape):
                return (torch.randn(*shape, device=device, dtype=dtype, generator=g) * 0.02)

            ones = lambda n: torch.ones(n, device=device, dtype=dtype)  # noqa: E731
            self.embed = w(s.vocab, s.hidden)
            self.head = self.embed if s.tied else w(s.vocab, s.hidden)
            self.final_norm = ones(s.hidden)
            qkv = (s.heads + 2 * s.kv_heads) * s.head_dim
            self.L = []
            for i in range(s.layers):
                layer = {"ln1": ones(s.hidden), "wqkv": w(qkv, s.hidden), "wo": w(s.hidden, s.heads * s.head_dim), "ln2": ones(s.hidden)}
                if s.qkv_bias:
                    layer["bqkv"] = w(qkv)
                if s.qk_norm:
                    layer["qn"], layer["kn"] = ones(s.head_dim), ones(s.head_dim)
                if s.moe_layer[i]:
                    layer["router"] = w(s.experts, s.hidden)
                    layer["egu"] = w(s.experts, 2 * s.expert_ffn, s.hidden)
                    layer["ed"] = w(s.experts, s.hidden, s.expert_ffn)
                else:
                    layer["wgu"] = w(2 * s.ffn, s.hidden)
                    layer["wd"] = w(s.hidden, s.ffn)
                self.L.append(layer)
            inv = 1.0 / (s.theta ** (torch.arange(0, s.head_dim, 2, device=device, dtype=torch.float32) / s.head_dim))
            self.inv_freq = inv

        def params(self) -> int:
            n = self.embed.numel() + (0 if self.s.tied else self.head.numel()) + self.final_norm.numel()
            return n + sum(t.numel() for layer in self.L for t in layer.values())

        def cache(self, batch, length):
            s = self.s
            return [(torch.zeros(batch, s.kv_heads, length, s.head_dim, device=self.embed.device, dtype=self.embed.dtype),
                     torch.zeros(batch, s.kv_heads, length, s.head_dim, device=self.embed.device, dtype=self.embed.dtype)) for _ in range(s.layers)]

        def moe(self, layer, x):
            s = self.s
            T = x.shape[0]
            probs = torch.softmax((x @ layer["router"].t()).float(), dim=-1)
            weight, idx = torch.topk(probs, s.top_k, dim=-1)
            if s.norm_topk:
                weight = weight / weight.sum(-1, keepdim=True)
            flat = idx.reshape(-1)
            order = torch.argsort(flat, stable=True)
            counts = torch.zeros(s.experts, device=x.device, dtype=torch.int64).scatter_add_(0, flat, torch.ones_like(flat))
            offs = counts.cumsum(0).to(torch.int32)
            token = order // s.top_k
            xs = x.index_select(0, token)
            gu = grouped_mm(xs, layer["egu"], offs, self.reference_moe)
            a = F.silu(gu[:, : s.expert_ffn]) * gu[:, s.expert_ffn:]
            y = grouped_mm(a, layer["ed"], offs, self.reference_moe)
            y = y * weight.reshape(-1).index_select(0, order).to(y.dtype)[:, None]
            return torch.zeros(T, s.hidden, device=x.device, dtype=x.dtype).index_add_(0, token, y)

        def forward(self, ids, kv, pos: int):
            """ids (batch, tokens) at positions pos..pos+tokens-1; writes their K/V into kv; logits of the last position."""
            s = self.s
            b, t = ids.shape
            x = self.embed[ids]
            freqs = torch.outer(torch.arange(pos, pos + t, device=x.device, dtype=torch.float32), self.inv_freq)
            cos, sin = freqs.cos().to(x.dtype), freqs.sin().to(x.dtype)  # (tokens, headDim / 2): rotate-half form
            for layer, (kc, vc) in zip(self.L, kv):
                h = rmsnorm(x, layer["ln1"], s.eps)
                qkv = h @ layer["wqkv"].t()
                if "bqkv" in layer:
                    qkv = qkv + layer["bqkv"]
                q, k, v = qkv.split([s.heads * s.head_dim, s.kv_heads * s.head_dim, s.kv_heads * s.head_dim], dim=-1)
                q = q.view(b, t, s.heads, s.head_dim)
                k = k.view(b, t, s.kv_heads, s.head_dim)
                v = v.view(b, t, s.kv_heads, s.head_dim)
                if s.qk_norm:
                    q, k = rmsnorm(q, layer["qn"], s.eps), rmsnorm(k, layer["kn"], s.eps)
                q = rotary(q, cos[:, None], sin[:, None]).transpose(1, 2)
                k = rotary(k, cos[:, None], sin[:, None]).transpose(1, 2)
                v = v.transpose(1, 2)
                kc[:, :, pos : pos + t].copy_(k)
                vc[:, :, pos : pos + t].copy_(v)
                if t > 1 and pos == 0:  # prefill from position 0: causal FlashAttention over the prompt
                    o = attend_prompt(q, k, v)
                elif t > 1:  # prompt tokens after a cached prefix (prefix caching): attend to the prefix and causally to each other
                    o = attend_chunk(q, kc[:, :, : pos + t], vc[:, :, : pos + t])
                else:  # decode: the new token attends to every cached key
                    o = attend_cache(q, kc[:, :, : pos + 1], vc[:, :, : pos + 1])
                x = x + o.transpose(1, 2).reshape(b, t, s.heads * s.head_dim) @ layer["wo"].t()
                h = rmsnorm(x, layer["ln2"], s.eps)
                if "router" in layer:
                    x = x + self.moe(layer, h.reshape(b * t, s.hidden)).view(b, t, s.hidden)
                else:
                    gu = h @ layer["wgu"].t()
                    x = x + (F.silu(gu[..., : s.ffn]) * gu[..., s.ffn :]) @ layer["wd"].t()
            return rmsnorm(x[:, -1], self.final_norm, s.eps) @ self.head.t()

    return SimpleNamespace(torch=torch, F=F, Model=Model, sdpa_backends=sdpa_backends)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(DEFAULT_PLAN), help="model preset ids (default: the plan's)")
    ap.add_argument("--decode-steps", type=int, default=20, help="graph replays timed per decode shape")
    ap.add_argument("--repeats", type=int, default=5, help="timed replays per prefill shape; the median is kept")
    ap.add_argument("--hardware", help="hardware preset id (default: from the GPU name)")
    ap.add_argument("--out", help="output YAML (default validation/cases/measured/<hardware>-<date>.yaml)")
    ap.add_argument("--budget-s", type=float, default=400, help="stop starting new configurations after this many seconds")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and exit (no torch needed)")
    ap.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke test of the whole loop at toy sizes (no graphs)")
    ap.add_argument("--check", action="store_true", help="run every layer type at toy sizes on the CPU and compare the MoE path with a per-expert loop")
    args = ap.parse_args()

    plan = {m: DEFAULT_PLAN.get(m, {"prefill": [(1, 2048)], "decode": [(1, 1024), (32, 4096)]}) for m in args.models}
    if args.dry_run:
        n = sum(len(p["prefill"]) + len(p["decode"]) for p in plan.values())
        print(f"plan: {n} configurations; prefill median of {args.repeats} replays, decode mean of {args.decode_steps} replays")
        for m, p in plan.items():
            shape = Shape(load_config(m))
            for b, c in p["prefill"]:
                print(f"  {m:16s} prefill batch {b:3d} x {c:6d} tokens")
            for b, c in p["decode"]:
                kv = 2 * b * (c + 1) * shape.kv_heads * shape.head_dim * 2 * shape.layers
                print(f"  {m:16s} decode  batch {b:3d} at context {c:6d} (KV {kv / 2**30:6.2f} GiB)")
        print("writes:", args.out or "validation/cases/measured/<hardware>-<date>.yaml")
        return

    import torch
    import torch.nn.functional as F

    Model = forward_pass(args.device == "cpu").Model

    if args.check:
        torch.manual_seed(0)
        for model_id in args.models:
            shape = Shape(load_config(model_id)).tiny()
            m = Model(shape, "cpu", torch.float32)
            ids = torch.randint(0, shape.vocab, (2, 5))
            kv = m.cache(2, 6)
            full = m.forward(ids, kv, 0)
            # decode the last token again at position 4 against the cached prefix: same logits
            kv2 = m.cache(2, 6)
            m.forward(ids[:, :4], kv2, 0)
            step = m.forward(ids[:, 4:5], kv2, 4)
            assert torch.allclose(full, step, atol=1e-4), f"{model_id}: decode after prefill differs from one prefill"
            if shape.experts:
                x = torch.randn(7, shape.hidden)
                # the sorted-token path against a dense per-token computation
                layer = m.L[0]
                probs = torch.softmax(x @ layer["router"].t(), -1)
                wgt, idx = torch.topk(probs, shape.top_k, -1)
                wgt = wgt / wgt.sum(-1, keepdim=True) if shape.norm_topk else wgt
                dense = torch.zeros_like(x)
                for t in range(7):
                    for j in range(shape.top_k):
                        e = idx[t, j]
                        gu = layer["egu"][e] @ x[t]
                        dense[t] += wgt[t, j] * (layer["ed"][e] @ (F.silu(gu[: shape.expert_ffn]) * gu[shape.expert_ffn :]))
                m.reference_moe = True
                assert torch.allclose(m.moe(layer, x), dense, atol=1e-5), f"{model_id}: MoE routing differs from the per-token reference"
                m.reference_moe = False
                try:
                    grouped = m.moe(layer, x)
                except RuntimeError as e:  # torch._grouped_mm may lack this device or dtype here
                    print(f"  (torch._grouped_mm not checked on the CPU: {e})"[:200])
                else:
                    assert torch.allclose(grouped, dense, atol=1e-4), f"{model_id}: grouped GEMM differs from the per-token reference"
            print(f"check {model_id}: ok ({'MoE' if shape.experts else 'dense'}, {shape.layers} toy layers)")
        return

    cpu = args.device == "cpu"
    if not cpu and not torch.cuda.is_available():
        sys.exit("measure.py: needs a CUDA device (use --dry-run to see the plan, --check or --device cpu to test the code on the CPU)")
    gpu = "CPU smoke test" if cpu else torch.cuda.get_device_name(0)
    if cpu:
        args.hardware = args.hardware or "cpu-smoke"
        plan = {m: {"prefill": [(1, 16), (2, 16)], "decode": [(1, 16), (4, 32)]} for m in plan}
    dtype = torch.float32 if cpu else torch.bfloat16
    sync = (lambda: None) if cpu else torch.cuda.synchronize  # noqa: E731
    hardware = args.hardware or next((pid for key, pid in GPU_PRESETS if key in gpu), None)
    if not hardware:
        sys.exit(f"measure.py: no hardware preset known for '{gpu}'; pass --hardware <preset id>")
    today = dt.date.today().isoformat()
    conditions = (
        f"GPU {gpu}; torch {torch.__version__}; CUDA {torch.version.cuda}; {'fp32' if cpu else 'bf16'} weights and KV cache; "
        f"the forward pass of scripts/measure/measure.py (SDPA FlashAttention with native GQA for prompt and decode "
        f"attention; cuBLAS GEMMs; torch._grouped_mm for experts) replayed as CUDA graphs; random weights from config; {today}"
    )
    out_path = pathlib.Path(args.out) if args.out else ROOT / "validation" / "cases" / "measured" / f"{hardware}-{today}.yaml"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    import yaml

    started = time.monotonic()
    cases: list[dict] = []
    failures: list[str] = []

    def write() -> None:
        header = f"# Measured with scripts/measure/measure.py: {conditions}\n"
        if failures:
            header += "".join(f"# not measured: {f}\n" for f in failures)
        out_path.write_text(header + yaml.safe_dump({"cases": cases}, sort_keys=False, width=120))

    class Eager:
        def __init__(self, fn):
            self.replay = fn

    def graph_of(fn):
        """fn captured as a CUDA graph after warm-up on a side stream (torch.cuda.graphs docs)."""
        if cpu:
            fn()
            return Eager(fn)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn()
        return g

    def replay_seconds(g, n: int) -> float:
        if cpu:
            t0 = time.perf_counter()
            for _ in range(n):
                g.replay()
            return (time.perf_counter() - t0) / n
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        start.record()
        for _ in range(n):
            g.replay()
        end.record()
        torch.cuda.synchronize()
        return start.elapsed_time(end) / 1e3 / n

    def case(model_id, kind, batch, context, measurements):
        base = f"measured-{hardware}-{model_id}-{kind}-b{batch}-c{context}"
        for m in measurements:
            m["id"] = f"{base}-{m.pop('suffix')}"
        return {
            "id": base, "model": model_id, "hardware": hardware, "hardwareAsPublished": gpu, "count": 1,
            "engine": "torch-graph", "engineAsPublished": f"scripts/measure/measure.py forward pass, torch {torch.__version__}, CUDA graphs",
            "precision": "bf16", "kvPrecision": "bf16", "batch": batch, "inputTokens": context, "outputTokens": 1,
            "measurements": measurements,
            "source": f"scripts/measure/measure.py ({conditions})", "trust": "high", "extraction": "measured",
        }

    dev = "cpu" if cpu else "cuda"

    def clear():
        if not cpu:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()

    def time_step(m: "Model", kind: str, batch: int, context: int) -> tuple[float, int]:
        """Seconds of one prefill (median of replays) or decode step (mean of replays) of model m,
        and the peak allocated memory during it."""
        clear()
        if not cpu:
            torch.cuda.reset_peak_memory_stats()
        g = kv = ids = None
        try:
            if kind == "prefill":
                kv = m.cache(batch, context)
                ids = torch.randint(0, m.s.vocab, (batch, context), device=dev)
                g = graph_of(lambda: m.forward(ids, kv, 0))
                times = sorted(replay_seconds(g, 1) for _ in range(args.repeats))
                seconds = times[len(times) // 2]
            else:
                kv = m.cache(batch, context + 1)
                ids = torch.randint(0, m.s.vocab, (batch, 1), device=dev)
                g = graph_of(lambda: m.forward(ids, kv, context))
                replay_seconds(g, 2)
                seconds = replay_seconds(g, args.decode_steps)
            peak = 0 if cpu else torch.cuda.max_memory_allocated()
            return seconds, peak
        finally:
            del g, kv, ids
            clear()

    for model_id, p in plan.items():
        if time.monotonic() - started > args.budget_s:
            failures.append(f"{model_id}: time budget reached")
            continue
        try:
            shape = Shape(load_config(model_id))
            if cpu:
                shape = shape.tiny()
            clear()
            model = Model(shape, dev, dtype)
            floor = Model(shape.floor(), dev, dtype)
        except Exception as e:  # noqa: BLE001 - report and go on
            failures.append(f"{model_id}: {type(e).__name__}: {e}"[:300])
            print("FAILED", failures[-1], flush=True)
            continue
        n_params = model.params()
        print(f"{model_id}: {n_params / 1e9:.3f} B parameters built in {time.monotonic() - started:.0f} s", flush=True)
        if shape.experts:
            # the grouped-GEMM path against the per-expert loop, on real sizes
            x = torch.randn(64, shape.hidden, device=dev, dtype=dtype)
            try:
                fast = model.moe(model.L[0], x)
                model.reference_moe = True
                slow = model.moe(model.L[0], x)
                model.reference_moe = False
                err = ((fast.float() - slow.float()).abs().max() / slow.float().abs().max()).item()
                if not err < 0.02:
                    raise RuntimeError(f"grouped GEMM differs from the per-expert loop by {err:.3g}")
            except Exception as e:  # noqa: BLE001 - no grouped GEMM: the MoE step would not be an engine's
                failures.append(f"{model_id}: {type(e).__name__}: {e}"[:300])
                print("FAILED", failures[-1], flush=True)
                del model, floor
                clear()
                continue
        for kind in ("prefill", "decode"):
            for batch, context in p[kind]:
                if time.monotonic() - started > args.budget_s:
                    failures.append(f"{model_id} {kind} b{batch} c{context}: time budget reached")
                    continue
                try:
                    seconds, peak = time_step(model, kind, batch, context)
                    floor_seconds, _ = time_step(floor, kind, batch, context)
                    work = seconds - floor_seconds
                    how = (f"{'median' if kind == 'prefill' else 'mean'} of {args.repeats if kind == 'prefill' else args.decode_steps} CUDA-graph replays "
                           f"(CUDA events): forward {seconds * 1e3:.4f} ms minus {floor_seconds * 1e3:.4f} ms for the same layers, attention layout "
                           f"and routing at tiny widths (the per-kernel floor of this unfused forward pass)")
                    if kind == "prefill":
                        tflops = 2 * n_params * batch * context / max(work, 1e-9) / 1e12
                        print(f"  prefill b{batch:3d} x {context:6d}: {seconds * 1e3:9.3f} ms, floor {floor_seconds * 1e3:7.3f} ms ({tflops:6.1f} TFLOP/s on parameters), peak {peak / 2**30:7.2f} GiB", flush=True)
                        cases.append(case(model_id, kind, batch, context, [
                            {"suffix": "work", "kind": "prefill", "metric": "prefillWorkSeconds", "measured": f"{work * 1e3:.4f} ms", "published": how,
                             "modelled": "latency.prefillRoofline + latency.prefillComm (the step's work; no per-step or per-kernel overhead)"},
                            {"suffix": "peak", "kind": "memory", "metric": "allocatedPeakBytes", "measured": f"{peak / 2**30:.4f} GiB",
                             "published": "torch.cuda.max_memory_allocated over capture and replays (weights, KV cache of the prompt, activations)",
                             "modelled": "weights + KV cache + activations per device (no CUDA context)"},
                        ]))
                    else:
                        kv_bytes = 2 * batch * (context + 1) * shape.kv_heads * shape.head_dim * 2 * shape.layers
                        print(f"  decode  b{batch:3d} @ {context:6d}: {seconds * 1e3:9.3f} ms, floor {floor_seconds * 1e3:7.3f} ms (weights {2 * n_params / 1e9:.1f} GB + KV {kv_bytes / 1e9:.1f} GB -> {(2 * n_params + kv_bytes) / max(work, 1e-9) / 1e12:.2f} TB/s if all read)", flush=True)
                        cases.append(case(model_id, kind, batch, context, [
                            {"suffix": "work", "kind": "decode", "metric": "decodeWorkSeconds", "measured": f"{work * 1e3:.4f} ms", "published": how,
                             "modelled": "latency.decodeRoofline + latency.decodeComm at context inputTokens + 0.5 (the step's work; no per-step or per-kernel overhead)"},
                        ]))
                    write()
                except Exception as e:  # noqa: BLE001 - report and go on
                    failures.append(f"{model_id} {kind} b{batch} c{context}: {type(e).__name__}: {e}"[:300])
                    print("FAILED", failures[-1], flush=True)
        del model, floor
        clear()
    write()
    print(f"wrote {len(cases)} cases to {out_path} in {time.monotonic() - started:.0f} s; {len(failures)} not measured", flush=True)


if __name__ == "__main__":
    main()
