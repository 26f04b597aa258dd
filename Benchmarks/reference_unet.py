"""PyTorch's side of `diffuse-bench unet`: one float32 forward of the full-size UNet of a family
with random weights, on 2 threads, after a warm-up. Prints one JSON object as its last line.

    /work/venv/bin/python Benchmarks/reference_unet.py --family sd-1_5 --width 512 --height 512 --batch 2

`--controlnet` runs one full-size ControlNet (Benchmarks/controlnet/<family>.json, the config
`ControlNetModel.from_unet` gives, as lllyasviel's SD1.5 ControlNets have) on a control image
of width x height before the UNet, adds its residuals into the UNet, and times both together.

`--write-shapes` instead writes Benchmarks/unet/<family>.weights.json (and, with --controlnet,
Benchmarks/controlnet/<family>.weights.json), the weight names and shapes diffuse-bench fills with
random values (the configs are Benchmarks/unet/<family>.json and Benchmarks/controlnet/<family>.json).
"""
import argparse
import time

import torch
from diffusers import ControlNetModel, UNet2DConditionModel

from bench_support import print_result, read_config, state_shapes, write_shapes


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=["sd-1_5", "sd-xl"], default="sd-1_5")
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--height", type=int, default=512)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--controlnet", action="store_true", help="add one full-size ControlNet's residuals")
    parser.add_argument("--write-shapes", action="store_true")
    args = parser.parse_args()

    config = read_config("unet", args.family)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    with torch.device("meta" if args.write_shapes else "cpu"):
        unet = UNet2DConditionModel(**config).eval()
        controlnet = ControlNetModel(**read_config("controlnet", args.family)).eval() if args.controlnet else None
    if args.write_shapes:
        write_shapes(state_shapes(unet), "unet", args.family)
        if controlnet is not None:
            write_shapes(state_shapes(controlnet), "controlnet", args.family)
        return

    forward = make_forward(unet, controlnet, config, args)
    with torch.no_grad():
        forward()
        start = time.perf_counter()
        output = forward()
        seconds = time.perf_counter() - start
    print_result(runtime=f"torch {torch.__version__}", family=args.family, width=args.width, height=args.height,
                 batch=args.batch, controlnet=args.controlnet, threads=args.threads, seconds=round(seconds, 3),
                 output_finite=bool(torch.isfinite(output).all()))


def make_forward(unet, controlnet, config, args):
    """One UNet forward on random inputs of the right shapes, after the ControlNet's when there is one."""
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
    control_image = torch.rand(b, 3, args.height, args.width)

    def forward():
        residuals = {}
        if controlnet is not None:
            down, mid = controlnet(sample, 500, context, controlnet_cond=control_image, return_dict=False, **kwargs)
            residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
        return unet(sample, 500, context, **kwargs, **residuals).sample

    return forward


if __name__ == "__main__":
    main()
