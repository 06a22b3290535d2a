#!/usr/bin/env python3
"""Measure prefill and decode time and peak memory of models built from their config with
random weights (nothing is downloaded), and write the results as validation cases
(validation/README.md) for llm-size's accuracy suite.

    python scripts/measure/measure.py --dry-run            # print the plan; needs no torch
    python scripts/measure/measure.py                      # on a CUDA machine: ~5-8 min on one H200
    python scripts/measure/measure.py --models llama-3.2-1b --batches 1 8 --contexts 512

Method: Hugging Face transformers, eager PyTorch (no CUDA graphs), bf16 weights and KV cache,
attention implementation "sdpa". For each model, batch and context: a warm-up pass, then
  - prefill: one forward pass over batch x context random tokens, timed with CUDA events after
    torch.cuda.synchronize(); logits only for the last position (logits_to_keep=1) as engines do;
  - decode: `--decode-steps` single-token steps on the prefilled cache, timed together; the time
    per output token is their mean, at mean context = context + steps / 2 (what llm-size's
    estimator uses for outputTokens = steps);
  - peak memory: torch.cuda.max_memory_allocated() over prefill and decode (tensors only, no
    CUDA context: the suite's allocatedPeakBytes metric).
Every case records the GPU name, torch, transformers and CUDA versions, dtype, attention
implementation and the date. Model configs come from presets/models/<id>.yaml (the config:
block is the model's config.json, verbatim).
"""
from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_MODELS = ["llama-3.2-1b", "llama-3.1-8b", "qwen2.5-7b"]
DEFAULT_BATCHES = [1, 8, 32]
DEFAULT_CONTEXTS = [512, 2048]

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
    import yaml  # PyYAML, a dependency of transformers / huggingface_hub

    return yaml.safe_load(path.read_text())["config"]


def plan(args) -> list[tuple[str, int, int]]:
    return [(m, b, c) for m in args.models for c in args.contexts for b in args.batches]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="model preset ids")
    ap.add_argument("--batches", nargs="+", type=int, default=DEFAULT_BATCHES)
    ap.add_argument("--contexts", nargs="+", type=int, default=DEFAULT_CONTEXTS, help="prompt tokens")
    ap.add_argument("--decode-steps", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats; the median is kept")
    ap.add_argument("--hardware", help="hardware preset id (default: from the GPU name)")
    ap.add_argument("--out", help="output YAML (default validation/cases/measured/<hardware>-<date>.yaml)")
    ap.add_argument("--budget-s", type=float, default=540, help="stop starting new configurations after this many seconds")
    ap.add_argument("--dry-run", action="store_true", help="print the plan and exit (no torch needed)")
    args = ap.parse_args()

    runs = plan(args)
    if args.dry_run:
        print(f"plan: {len(runs)} configurations, {args.decode_steps} decode steps, {args.repeats} repeats each")
        for m, b, c in runs:
            print(f"  {m:16s} batch {b:3d} context {c:5d}: prefill {b * c} tokens, then {args.decode_steps} decode steps")
        print("writes:", args.out or "validation/cases/measured/<hardware>-<date>.yaml")
        return

    import torch
    import transformers
    from transformers import AutoConfig, AutoModelForCausalLM

    if not torch.cuda.is_available():
        sys.exit("measure.py: needs a CUDA device (use --dry-run to see the plan)")
    gpu = torch.cuda.get_device_name(0)
    hardware = args.hardware or next((pid for key, pid in GPU_PRESETS if key in gpu), None)
    if not hardware:
        sys.exit(f"measure.py: no hardware preset known for '{gpu}'; pass --hardware <preset id>")
    today = dt.date.today().isoformat()
    conditions = (
        f"GPU {gpu}; torch {torch.__version__}; transformers {transformers.__version__}; CUDA {torch.version.cuda}; "
        f"bf16 weights and KV cache; attn_implementation sdpa; eager (no CUDA graphs); random weights from config; {today}"
    )
    started = time.monotonic()
    cases: list[dict] = []

    def timed(fn, repeats: int) -> float:
        times = []
        for _ in range(repeats):
            torch.cuda.synchronize()
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        return sorted(times)[len(times) // 2]

    for model_id in args.models:
        if time.monotonic() - started > args.budget_s:
            print(f"budget reached, skipping {model_id}")
            continue
        cfg = AutoConfig.for_model(**load_config(model_id))
        cfg.torch_dtype = torch.bfloat16
        with torch.device("cuda"):
            model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16, attn_implementation="sdpa")
        model.eval()
        vocab = cfg.vocab_size

        def forward(ids, cache=None):
            try:
                return model(input_ids=ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
            except TypeError:  # transformers < 4.45 names it num_logits_to_keep
                return model(input_ids=ids, past_key_values=cache, use_cache=True, num_logits_to_keep=1)

        for context in args.contexts:
            for batch in args.batches:
                if time.monotonic() - started > args.budget_s:
                    break
                ids = torch.randint(0, vocab, (batch, context), device="cuda")
                step = torch.randint(0, vocab, (batch, 1), device="cuda")
                try:
                    with torch.inference_mode():
                        forward(ids)  # warm-up
                        torch.cuda.empty_cache()
                        torch.cuda.reset_peak_memory_stats()
                        prefill_s = timed(lambda: forward(ids), args.repeats)
                        out = forward(ids)
                        cache = out.past_key_values

                        def decode():
                            c = cache
                            for _ in range(args.decode_steps):
                                c = forward(step, c).past_key_values

                        # each repeat extends a copy-free cache; crop back so every repeat sees the same context
                        decode_times = []
                        for _ in range(args.repeats):
                            decode_times.append(timed(decode, 1))
                            if hasattr(cache, "crop"):
                                cache.crop(context)
                        decode_s = sorted(decode_times)[len(decode_times) // 2]
                        peak = torch.cuda.max_memory_allocated()
                except torch.cuda.OutOfMemoryError:
                    print(f"{model_id} batch {batch} context {context}: out of memory, skipped")
                    torch.cuda.empty_cache()
                    continue
                tpot = decode_s / args.decode_steps
                base = f"measured-{hardware}-{model_id}-b{batch}-c{context}"
                print(f"{model_id:16s} batch {batch:3d} context {context:5d}: ttft {prefill_s * 1e3:8.2f} ms, tpot {tpot * 1e3:7.2f} ms, peak {peak / 2**30:6.2f} GiB")
                cases.append({
                    "id": base,
                    "model": model_id,
                    "hardware": hardware,
                    "hardwareAsPublished": gpu,
                    "count": 1,
                    "engine": "hf-eager",
                    "engineAsPublished": f"transformers {transformers.__version__} eager, torch {torch.__version__}",
                    "precision": "bf16",
                    "kvPrecision": "bf16",
                    "batch": batch,
                    "inputTokens": context,
                    "outputTokens": args.decode_steps,
                    "measurements": [
                        {"kind": "prefill", "id": f"{base}-ttft", "metric": "ttft", "outputTokens": 1,
                         "measured": f"{prefill_s * 1e3:.4f} ms", "published": "CUDA-event time of one prefill forward pass (median of repeats)",
                         "modelled": "latency.ttft"},
                        {"kind": "decode", "id": f"{base}-tpot", "metric": "tpot",
                         "measured": f"{tpot * 1e3:.4f} ms", "published": f"mean of {args.decode_steps} single-token decode steps after the prefill",
                         "modelled": "latency.tpot at mean context input + steps / 2"},
                        {"kind": "memory", "id": f"{base}-peak", "metric": "allocatedPeakBytes",
                         "measured": f"{peak / 2**30:.4f} GiB", "published": "torch.cuda.max_memory_allocated over prefill and decode",
                         "modelled": "weights + KV cache + activations per device (no CUDA context)"},
                    ],
                    "source": f"scripts/measure/measure.py ({conditions})",
                    "trust": "high",
                    "extraction": "measured",
                    "notes": "Eager transformers carries Python and launch overhead per step that tuned engines do not; engine hf-eager.",
                })
                del ids, step
                cache = out = None
                torch.cuda.empty_cache()
        del model
        torch.cuda.empty_cache()

    out_path = pathlib.Path(args.out) if args.out else ROOT / "validation" / "cases" / "measured" / f"{hardware}-{today}.yaml"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    import yaml

    header = f"# Measured with scripts/measure/measure.py: {conditions}\n"
    out_path.write_text(header + yaml.safe_dump({"cases": cases}, sort_keys=False, width=120))
    print(f"wrote {len(cases)} cases to {out_path} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
