#!/usr/bin/env python3
"""Measure two serving levers on one GPU with measure.py's forward pass ("torch-graph": random
weights from presets' config.json, bf16, CUDA graphs) and write them as validation cases
(validation/README.md) for llm-size's accuracy suite (docs/accuracy.md, "Serving levers").

    python3 scripts/measure/measure_levers.py --check                # tiny shapes on the CPU: checks the code
    python3 scripts/measure/measure_levers.py --out /tmp/levers.yaml # on a CUDA machine: ~1-2 min on one H200

Prefix caching (src/estimate/prefix.ts, --cache-hit-rate h): the prefill of a T-token prompt from
position 0 against the prefill of only its last N = T - floor(h x T) tokens at position T - N, with
the first tokens' KV already in the cache (the uncached tail attends to the cached prefix:
FlashAttention with the causal diagonal at the bottom right). Both are timed as CUDA-graph
replays and, as in measure.py, less the same forward pass at tiny widths (the per-kernel floor of
this unfused forward pass), so the ratio (tail work / whole-prompt work) is what llm-size's
prefillWorkSeconds predicts with --cache-hit-rate h over the same without (a `relative` case).

KV offload to CPU (src/estimate/kv-offload.ts, --kv-offload cpu:<GiB>; LMCache): a returning
prompt of T tokens whose first T - 1 tokens' KV sits in pinned host memory, one K and one V block
per layer. A hit copies each layer's blocks to a device staging buffer with non_blocking copies
and scatters them into the layer's KV cache (as LMCache's GPU connector does: host -> GPU buffer,
then a device copy into the engine's cache), then prefills the last token; recomputing prefills
all T. The ratio recompute / (load + last-token prefill), both as this forward pass's whole graph
time (floor included: llm-size's kvOffload.cpu.speedup adds its step overhead to both sides), is
kvOffloadCpuSpeedup. The run also times one large pinned host-to-device copy, the host link's
bandwidth, to compare with the link the hardware preset states.
"""
from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from measure import GPU_PRESETS, ROOT, Shape, forward_pass, load_config  # noqa: E402

# model -> prompt lengths and hit rates for prefix caching; prompt lengths for a KV-offload hit
PLAN: dict[str, dict[str, list]] = {
    "llama-3.1-8b": {"prefix": [(4096, 0.5), (4096, 0.9), (8192, 0.75)], "offload": [4096, 16384]},
    "llama-3.2-3b": {"prefix": [(4096, 0.5), (4096, 0.9), (8192, 0.75)], "offload": [4096, 16384]},
    "qwen3-8b": {"prefix": [(4096, 0.5), (8192, 0.75)], "offload": [8192]},
}
OFFLOAD_GIB = 64  # the host tier's size in the cases (--kv-offload cpu:64): it holds every hit measured here


def cached_tokens(total: int, hit: float) -> int:
    """llm-size's prefix.cachedTokens for a bare engine (blocks of one token): min(floor(h x T), T - 1)."""
    return min(int(hit * total), total - 1)


def sdpa_shim(torch, F) -> None:
    """A math scaled_dot_product_attention where this torch has none (CPU check on torch < 2.0)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return

    def sdpa(q, k, v, attn_mask=None, is_causal=False, enable_gqa=False):
        if k.shape[1] != q.shape[1]:
            g = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(g, 1), v.repeat_interleave(g, 1)
        s = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
        t, n = q.shape[2], k.shape[2]
        if is_causal:
            attn_mask = torch.ones(t, n, dtype=torch.bool, device=q.device).tril()
        if attn_mask is not None:
            s = s.masked_fill(~attn_mask, float("-inf"))
        return torch.softmax(s, -1) @ v

    F.scaled_dot_product_attention = sdpa


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(PLAN), help="model preset ids (default: the plan's)")
    ap.add_argument("--repeats", type=int, default=7, help="timed replays per shape; the median is kept")
    ap.add_argument("--hardware", help="hardware preset id (default: from the GPU name)")
    ap.add_argument("--out", help="output YAML (default validation/cases/measured/levers-<hardware>-<date>.yaml)")
    ap.add_argument("--budget-s", type=float, default=200, help="stop starting new models after this many seconds")
    ap.add_argument("--check", action="store_true", help="tiny shapes on the CPU: a cached-prefix tail and a KV copy from host give the whole prompt's logits, then the whole loop")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F

    cpu = args.check or not torch.cuda.is_available()
    if cpu and not args.check:
        sys.exit("measure_levers.py: needs a CUDA device (use --check to test the code on the CPU)")
    if cpu:
        sdpa_shim(torch, F)
    Model = forward_pass(cpu).Model
    dev, dtype = ("cpu", torch.float32) if cpu else ("cuda", torch.bfloat16)
    plan = {m: PLAN.get(m, {"prefix": [(4096, 0.5), (8192, 0.75)], "offload": [8192]}) for m in args.models}

    if args.check:
        torch.manual_seed(0)
        for model_id in args.models:
            s = Shape(load_config(model_id)).tiny()
            m = Model(s, "cpu", torch.float32)
            ids = torch.randint(0, s.vocab, (1, 9))
            full = m.forward(ids, m.cache(1, 9), 0)
            for p in (1, 5, 8):  # a cached prefix of p tokens, then the tail at position p
                kv = m.cache(1, 9)
                m.forward(ids[:, :p], kv, 0)
                tail = m.forward(ids[:, p:], kv, p)
                assert torch.allclose(full, tail, atol=1e-4), f"{model_id}: tail after a cached prefix of {p} differs from the whole prompt"
            # a KV-offload hit: the prefix's KV copied back from host blocks, then the last token
            kv = m.cache(1, 9)
            m.forward(ids[:, :8], kv, 0)
            host = [torch.stack((k[:, :, :8], v[:, :, :8])).clone() for k, v in kv]
            kv2 = m.cache(1, 9)
            load_kv(torch, host, kv2, torch.empty_like(host[0]), 8)
            assert torch.allclose(full, m.forward(ids[:, 8:], kv2, 8), atol=1e-4), f"{model_id}: last token after a KV copy from host differs"
            print(f"check {model_id}: ok (tail after a cached prefix of 1, 5, 8 tokens and a KV copy from host give the whole prompt's logits)")
        plan = {m: {"prefix": [(16, 0.5), (16, 0.75)], "offload": [16]} for m in args.models}

    gpu = "CPU check" if cpu else torch.cuda.get_device_name(0)
    hardware = "cpu-check" if cpu else args.hardware or next((pid for key, pid in GPU_PRESETS if key in gpu), None)
    if not hardware:
        sys.exit(f"measure_levers.py: no hardware preset known for '{gpu}'; pass --hardware <preset id>")
    today = dt.date.today().isoformat()
    out_path = pathlib.Path(args.out) if args.out else ROOT / "validation" / "cases" / "measured" / f"levers-{hardware}-{today}.yaml"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    conditions = (
        f"GPU {gpu}; torch {torch.__version__}; CUDA {torch.version.cuda}; {'fp32' if cpu else 'bf16'} weights and KV cache; "
        f"scripts/measure/measure.py's forward pass (SDPA FlashAttention with native GQA; a cached prefix's tail with the causal "
        f"diagonal at the bottom right) replayed as CUDA graphs; random weights from config; {today}"
    )
    import yaml

    sync = (lambda: None) if cpu else torch.cuda.synchronize  # noqa: E731
    started = time.monotonic()
    cases: list[dict] = []
    notes: list[str] = []

    def write() -> None:
        header = f"# Measured with scripts/measure/measure_levers.py: {conditions}\n" + "".join(f"# {n}\n" for n in notes)
        out_path.write_text(header + yaml.safe_dump({"cases": cases}, sort_keys=False, width=120))

    def clear():
        if not cpu:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()

    def timed(fn, n: int) -> float:
        """Median seconds of n calls of fn (CUDA events on the GPU)."""
        times = []
        for _ in range(n):
            if cpu:
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
                continue
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            a.record()
            fn()
            b.record()
            torch.cuda.synchronize()
            times.append(a.elapsed_time(b) / 1e3)
        return sorted(times)[len(times) // 2]

    def graph_of(fn):
        """fn captured as a CUDA graph after warm-up on a side stream (as measure.py)."""
        if cpu:
            fn()
            return fn
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                fn()
        torch.cuda.current_stream().wait_stream(side)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            fn()
        return g.replay

    def prefill_seconds(m, total: int, pos: int) -> float:
        """Median graph time of prefilling tokens pos..total-1 of one prompt, the cache holding 0..pos-1."""
        clear()
        kv = m.cache(1, total)
        ids = torch.randint(0, m.s.vocab, (1, total - pos), device=dev)
        try:
            g = graph_of(lambda: m.forward(ids, kv, pos))
            return timed(g, args.repeats)
        finally:
            del kv, ids
            clear()

    # the host link: one 1 GiB pinned host-to-device copy (bandwidthTest's method), median of repeats
    link_gbs = None
    if not cpu:
        n = 2**30
        host = torch.empty(n, dtype=torch.uint8, pin_memory=True)
        devbuf = torch.empty(n, dtype=torch.uint8, device=dev)
        link_s = timed(lambda: devbuf.copy_(host, non_blocking=True), args.repeats)
        link_gbs = n / link_s / 1e9
        pageable = torch.empty(n, dtype=torch.uint8)
        pageable_gbs = n / timed(lambda: devbuf.copy_(pageable), 3) / 1e9
        del host, devbuf, pageable
        notes.append(f"host-to-device copy of 1 GiB: pinned {link_gbs:.1f} GB/s, pageable {pageable_gbs:.1f} GB/s (median of {args.repeats} and 3 copies, CUDA events)")
        print(notes[-1], flush=True)

    for model_id, p in plan.items():
        if time.monotonic() - started > args.budget_s:
            notes.append(f"not measured: {model_id} (time budget reached)")
            continue
        try:
            shape = Shape(load_config(model_id))
            if cpu:
                shape = shape.tiny()
            clear()
            model = Model(shape, dev, dtype)
            floor = Model(shape.floor(), dev, dtype)
        except Exception as e:  # noqa: BLE001 - report and go on
            notes.append(f"not measured: {model_id}: {type(e).__name__}: {e}"[:300])
            print(notes[-1], flush=True)
            continue
        if not cpu:  # the tail path on the real model and kernels: bf16 logits of tail-after-prefix against the whole prompt
            ids = torch.randint(0, shape.vocab, (1, 1024), device=dev)
            full = model.forward(ids, model.cache(1, 1024), 0).float()
            kv = model.cache(1, 1024)
            model.forward(ids[:, :512], kv, 0)
            tail = model.forward(ids[:, 512:], kv, 512).float()
            err = ((full - tail).abs().max() / full.abs().max()).item()
            notes.append(f"{model_id}: logits of a 512-token tail after a cached 512-token prefix vs the whole 1024-token prompt: max relative difference {err:.3g} (bf16)")
            print(notes[-1], flush=True)
            del ids, kv, full, tail
            if not err < 0.05:
                notes.append(f"not measured: {model_id}: the cached-prefix tail does not reproduce the whole prompt")
                continue
        kv_per_token = 2 * shape.kv_heads * shape.head_dim * (2 if not cpu else 4) * shape.layers
        whole: dict[int, tuple[float, float]] = {}

        def whole_prompt(total: int) -> tuple[float, float]:
            if total not in whole:
                whole[total] = (prefill_seconds(model, total, 0), prefill_seconds(floor, total, 0))
            return whole[total]

        base = {"model": model_id, "hardware": hardware, "hardwareAsPublished": gpu, "count": 1, "engine": "torch-graph",
                "engineAsPublished": f"scripts/measure/measure_levers.py on measure.py's forward pass, torch {torch.__version__}, CUDA graphs",
                "precision": "bf16", "kvPrecision": "bf16", "batch": 1}
        source = f"scripts/measure/measure_levers.py ({conditions})"
        for total, hit in p["prefix"]:
            try:
                cached = cached_tokens(total, hit)
                full, full_floor = whole_prompt(total)
                tail, tail_floor = prefill_seconds(model, total, cached), prefill_seconds(floor, total, cached)
                ratio = (tail - tail_floor) / (full - full_floor)
                print(f"  {model_id} prefix {total} tokens, hit {hit}: whole {full * 1e3:.3f} ms (floor {full_floor * 1e3:.3f}), "
                      f"tail of {total - cached} at {cached}: {tail * 1e3:.3f} ms (floor {tail_floor * 1e3:.3f}); work ratio {ratio:.4f}, raw {tail / full:.4f}", flush=True)
                cid = f"measured-{hardware}-{model_id}-prefix-c{total}-hit{round(hit * 100)}"
                cases.append({"id": cid, **base, "inputTokens": total, "outputTokens": 1, "levers": {"cacheHitRate": hit}, "relative": True,
                              "measurements": [{"id": f"{cid}-work", "kind": "prefill", "metric": "prefillWorkSeconds", "measured": round(ratio, 4),
                                                "published": (f"median of {args.repeats} CUDA-graph replays (CUDA events) each: prefill of the last {total - cached} tokens at position {cached} "
                                                              f"over a cached prefix {tail * 1e3:.4f} ms less {tail_floor * 1e3:.4f} ms floor; the whole {total}-token prompt from position 0 "
                                                              f"{full * 1e3:.4f} ms less {full_floor * 1e3:.4f} ms floor; ({tail * 1e3:.4f} - {tail_floor * 1e3:.4f}) / ({full * 1e3:.4f} - {full_floor * 1e3:.4f}) = {ratio:.4f} "
                                                              f"(raw graph times: {tail / full:.4f})"),
                                                "modelled": f"latency.prefillRoofline + latency.prefillComm with --cache-hit-rate {hit} (prefix.cachedTokens {cached}) over the same without a cache"}],
                              "source": source, "trust": "high", "extraction": "measured"})
                write()
            except Exception as e:  # noqa: BLE001 - report and go on
                notes.append(f"not measured: {model_id} prefix {total} hit {hit}: {type(e).__name__}: {e}"[:300])
                print(notes[-1], flush=True)
        for total in p["offload"]:
            try:
                hit = total - 1
                full, _ = whole_prompt(total)
                last = prefill_seconds(model, total, hit)
                clear()
                host = [torch.empty(2, 1, shape.kv_heads, hit, shape.head_dim, dtype=dtype, pin_memory=not cpu) for _ in range(shape.layers)]
                kv = model.cache(1, total)
                stage = torch.empty_like(host[0], device=dev)
                load = timed(lambda: load_kv(torch, host, kv, stage, hit), args.repeats)
                del host, kv, stage
                clear()
                nbytes = hit * kv_per_token
                speedup = full / (load + last)
                print(f"  {model_id} KV offload {total} tokens: recompute {full * 1e3:.3f} ms; load {nbytes / 1e9:.3f} GB in {load * 1e3:.3f} ms "
                      f"({nbytes / load / 1e9:.1f} GB/s) + last token {last * 1e3:.3f} ms; speedup {speedup:.3f}", flush=True)
                cid = f"measured-{hardware}-{model_id}-kv-offload-cpu-c{total}"
                cases.append({"id": cid, **base, "inputTokens": total, "outputTokens": 1, "levers": {"kvOffload": f"cpu:{OFFLOAD_GIB}"},
                              "measurements": [{"id": f"{cid}-speedup", "kind": "prefill", "metric": "kvOffloadCpuSpeedup", "measured": round(speedup, 4),
                                                "published": (f"median of {args.repeats} (CUDA events) each: recompute = the whole {total}-token prefill {full * 1e3:.4f} ms (CUDA-graph replay); "
                                                              f"hit = KV of {hit} tokens ({nbytes / 1e9:.4f} GB, {shape.layers} layers x K and V) from pinned host memory, per layer a "
                                                              f"non_blocking copy into a device buffer and a device copy into the layer's cache, {load * 1e3:.4f} ms ({nbytes / load / 1e9:.1f} GB/s), "
                                                              f"then the last token's prefill at position {hit} {last * 1e3:.4f} ms; {full * 1e3:.4f} / ({load * 1e3:.4f} + {last * 1e3:.4f}) = {speedup:.4f}"
                                                              + (f"; a 1 GiB pinned copy ran at {link_gbs:.1f} GB/s" if link_gbs else "")),
                                                "modelled": f"kvOffload.cpu.speedup with --kv-offload cpu:{OFFLOAD_GIB}: one request's TTFT recomputing {total} tokens over its TTFT loading {hit} tokens' KV over the host link and prefilling the last"}],
                              "source": source, "trust": "high", "extraction": "measured"})
                write()
            except Exception as e:  # noqa: BLE001 - report and go on
                notes.append(f"not measured: {model_id} KV offload {total}: {type(e).__name__}: {e}"[:300])
                print(notes[-1], flush=True)
        del model, floor
        clear()
    write()
    print(f"wrote {len(cases)} cases to {out_path} in {time.monotonic() - started:.0f} s", flush=True)


def load_kv(torch, host: list, kv: list, stage, tokens: int) -> None:
    """A hit's KV back from host memory: per layer, its (K, V) block copied into a device buffer
    (non_blocking from pinned memory), then into the first `tokens` positions of the layer's cache
    (LMCache's GPU connector: host chunk -> GPU buffer -> the engine's KV layout)."""
    for h, (k, v) in zip(host, kv):
        stage.copy_(h, non_blocking=True)
        k[:, :, :tokens].copy_(stage[0])
        v[:, :, :tokens].copy_(stage[1])


if __name__ == "__main__":
    main()
