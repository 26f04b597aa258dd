"""PyTorch's side of `diffuse-bench unet`: one float32 forward of the full-size UNet of a family
with random weights, on 2 threads, after a warm-up. Prints one JSON object as its last line.

    /work/venv/bin/python Benchmarks/reference_unet.py --family sd-1_5 --width 512 --height 512 --batch 2

`--runtime openvino` times the same UNet in OpenVINO instead (PyPI `openvino`): converted from the
PyTorch model with `openvino.convert_model` at these static shapes and compiled for the CPU with
`INFERENCE_PRECISION_HINT` f32 on the same threads; conversion and compilation are not timed.

`--controlnet` runs one full-size ControlNet (Benchmarks/controlnet/<family>.json, the config
`ControlNetModel.from_unet` gives, as lllyasviel's SD1.5 ControlNets have) on a control image
of width x height before the UNet, adds its residuals into the UNet, and times both together.

`--write-shapes` instead writes Benchmarks/unet/<family>.weights.json (and, with --controlnet,
Benchmarks/controlnet/<family>.weights.json), the weight names and shapes diffuse-bench fills with
random values (the configs are Benchmarks/unet/<family>.json and Benchmarks/controlnet/<family>.json).
"""
import argparse
import sys
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
    parser.add_argument("--runtime", choices=["torch", "openvino"], default="torch")
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

    if args.runtime == "openvino":
        if controlnet is not None:
            parser.error("--runtime openvino times the UNet alone (no --controlnet)")
        forward, runtime = make_openvino_forward(unet, config, args), openvino_version()
    else:
        forward, runtime = make_forward(unet, controlnet, config, args), f"torch {torch.__version__}"
    with torch.no_grad():
        forward()
        start = time.perf_counter()
        output = forward()
        seconds = time.perf_counter() - start
    print_result(runtime=runtime, family=args.family, width=args.width, height=args.height,
                 batch=args.batch, controlnet=args.controlnet, threads=args.threads, seconds=round(seconds, 3),
                 output_finite=bool(torch.isfinite(output).all()))


def random_inputs(config, args):
    """The sample and text context of one forward, random, of the shapes `args` gives."""
    b, h, w = args.batch, args.height // 8, args.width // 8
    return torch.randn(b, 4, h, w), torch.randn(b, 77, config["cross_attention_dim"])


def make_forward(unet, controlnet, config, args):
    """One UNet forward on random inputs of the right shapes, after the ControlNet's when there is one."""
    b = args.batch
    sample, context = random_inputs(config, args)
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


def make_openvino_forward(unet, config, args):
    """The UNet converted to OpenVINO at static shapes (SD1.5's conditioning only: SDXL's added
    conditions are not wired) and compiled for the CPU in float32; returns one inference."""
    import openvino

    if config.get("addition_embed_type"):
        sys.exit("--runtime openvino: only SD1.5's UNet (no added conditions)")

    class Forward(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unet = unet

        def forward(self, sample, timestep, context):
            return self.unet(sample, timestep, context, return_dict=False)[0]

    sample, context = random_inputs(config, args)
    timestep = torch.full((args.batch,), 500.0)
    inputs = (sample, timestep, context)
    with torch.no_grad():
        model = openvino.convert_model(Forward(), example_input=inputs, input=[tuple(x.shape) for x in inputs])
    compiled = openvino.Core().compile_model(model, "CPU", {
        "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": str(args.threads), "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    feeds = [x.numpy() for x in inputs]

    def forward():
        return torch.from_numpy(request.infer(feeds)[0])

    return forward


def openvino_version():
    import openvino

    return f"openvino {openvino.__version__}"


if __name__ == "__main__":
    main()
