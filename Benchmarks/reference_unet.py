"""PyTorch's side of `diffuse-bench unet`: one float32 forward of the full-size UNet of a family
with random weights, on 2 threads, after a warm-up. Prints one JSON object as its last line.

    /work/venv/bin/python Benchmarks/reference_unet.py --family sd-1_5 --width 512 --height 512 --batch 2

`--write-shapes` instead writes Benchmarks/unet/<family>.weights.json, the weight names and shapes
diffuse-bench fills with random values (the configs are Benchmarks/unet/<family>.json).
"""
import argparse
import json
import os
import resource
import time

import torch
from diffusers import UNet2DConditionModel

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "unet")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=["sd-1_5", "sd-xl"], default="sd-1_5")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write-shapes", action="store_true")
    args = parser.parse_args()

    with open(os.path.join(HERE, f"{args.family}.json")) as f:
        config = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with torch.device("meta" if args.write_shapes else "cpu"):
        unet = UNet2DConditionModel(**config).eval()
    if args.write_shapes:
        shapes = {k: list(v.shape) for k, v in unet.state_dict().items()}
        with open(os.path.join(HERE, f"{args.family}.weights.json"), "w") as f:
            f.write("{\n" + ",\n".join(f'"{k}": {shapes[k]}' for k in sorted(shapes)) + "\n}\n")
        return

    b, h, w = args.batch, args.height // 8, args.width // 8
    sample = torch.randn(b, 4, h, w)
    context = torch.randn(b, 77, config["cross_attention_dim"])
    kwargs = {}
    if config.get("addition_embed_type") == "text_time":
        pooled = config["projection_class_embeddings_input_dim"] - 6 * config["addition_time_embed_dim"]
        kwargs["added_cond_kwargs"] = {
            "text_embeds": torch.randn(b, pooled),
            "time_ids": torch.tensor([[args.height, args.width, 0, 0, args.height, args.width]] * b, dtype=torch.float32),
        }
    with torch.no_grad():
        unet(sample, 500, context, **kwargs)
        start = time.perf_counter()
        unet(sample, 500, context, **kwargs)
        seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"runtime": f"torch {torch.__version__}", "family": args.family, "width": args.width,
                      "height": args.height, "batch": b, "threads": args.threads, "seconds": round(seconds, 3),
                      "peak_rss_bytes": peak}))


if __name__ == "__main__":
    main()
