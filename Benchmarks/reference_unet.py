"""PyTorch's side of `diffuse-bench unet`: one float32 forward of the full-size UNet of a family
with random weights, on 2 threads, after a warm-up. Prints one JSON object as its last line.

    /work/venv/bin/python Benchmarks/reference_unet.py --family sd-1_5 --width 512 --height 512 --batch 2

`--controlnet` runs one full-size ControlNet (Benchmarks/controlnet/<family>.json, the config
`ControlNetModel.from_unet` gives, as lllyasviel's SD1.5 ControlNets have) on a control image
of width x height before the UNet, adds its residuals into the UNet, and times both together.

`--runtime openvino` times the same computation in OpenVINO instead (PyPI `openvino`,
Benchmarks/openvino_support.py): the same random UNet (and ControlNet, as one model with it) converted
at these static shapes by a child process, then compiled for the CPU with `INFERENCE_PRECISION_HINT`
f32 on the same threads; conversion and compilation are not timed (`convert_peak_rss_bytes` is the
conversion's peak memory). The weights (torch's default initialization after seed 0) and the inputs
(their own seed) are the same in both runtimes, so `--save-output FILE.npy` from each can be compared.

`--write-shapes` instead writes Benchmarks/unet/<family>.weights.json (and, with --controlnet,
Benchmarks/controlnet/<family>.weights.json), the weight names and shapes diffuse-bench fills with
random values (the configs are Benchmarks/unet/<family>.json and Benchmarks/controlnet/<family>.json).
"""
import argparse
import time

import numpy as np
import torch
from diffusers import ControlNetModel, UNet2DConditionModel

import openvino_support
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
    parser.add_argument("--save-output", help="write the UNet's output to this .npy file")
    parser.add_argument(openvino_support.CONVERT_FLAG, dest="convert_to", help=argparse.SUPPRESS)
    parser.add_argument("--write-shapes", action="store_true")
    args = parser.parse_args()

    config = read_config("unet", args.family)
    torch.set_num_threads(args.threads)
    inputs = random_inputs(config, args)
    if args.runtime == "openvino" and not args.convert_to:
        with openvino_support.ConvertedModels() as converted:
            compiled = openvino_support.compile(converted.path("denoiser"), args.threads)
        request, feeds = compiled.create_infer_request(), [x.numpy() for x in inputs]
        forward = lambda: torch.from_numpy(request.infer(feeds)[0])
        runtime, extra = openvino_support.version(), {"convert_peak_rss_bytes": converted.peak_rss_bytes}
    else:
        denoiser = make_denoiser(config, args)
        if denoiser is None:
            return
        if args.convert_to:
            return openvino_support.save(denoiser, inputs, f"{args.convert_to}/denoiser.xml",
                                         example=random_inputs(config, argparse.Namespace(**{**vars(args), **TRACE_SIZE})))
        forward, runtime, extra = (lambda: denoiser(*inputs)), f"torch {torch.__version__}", {}
    with torch.no_grad():
        forward()
        start = time.perf_counter()
        output = forward()
        seconds = time.perf_counter() - start
    if args.save_output:
        np.save(args.save_output, output.numpy())
    print_result(runtime=runtime, family=args.family, width=args.width, height=args.height,
                 batch=args.batch, controlnet=args.controlnet, threads=args.threads, seconds=round(seconds, 3),
                 output_finite=bool(torch.isfinite(output).all()), **extra)


# The size the OpenVINO conversion traces at (openvino_support.save): the smallest every family's UNet
# takes (its latent halves three times at most), whatever size is converted.
TRACE_SIZE = {"width": 64, "height": 64}


def make_denoiser(config, args):
    """The random UNet (after seed 0), with its ControlNet when asked, as one `Denoiser`; or None once
    --write-shapes has written their manifests."""
    torch.manual_seed(0)
    with torch.device("meta" if args.write_shapes else "cpu"):
        unet = UNet2DConditionModel(**config).eval()
        controlnet = ControlNetModel(**read_config("controlnet", args.family)).eval() if args.controlnet else None
    if args.write_shapes:
        write_shapes(state_shapes(unet), "unet", args.family)
        if controlnet is not None:
            write_shapes(state_shapes(controlnet), "controlnet", args.family)
        return None
    if controlnet is not None:
        # Its output convolutions start at zero; random like every other weight (as diffuse-bench's are),
        # the residuals are not zero and --save-output checks the ControlNet's path too.
        for conv in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
            conv.reset_parameters()
    added = ("text_embeds", "time_ids") if config.get("addition_embed_type") == "text_time" else ()
    return openvino_support.Denoiser(unet, controlnet, added)


def random_inputs(config, args):
    """One forward's inputs in `Denoiser`'s order, random (from their own seed) at the shapes `args`
    gives: sample, timestep 500, text context, the control image with --controlnet, and SDXL's pooled
    text embedding and size conditions."""
    b, h, w = args.batch, args.height // 8, args.width // 8
    generator = torch.Generator().manual_seed(1)
    inputs = [torch.randn(b, 4, h, w, generator=generator), torch.full((b,), 500.0),
              torch.randn(b, 77, config["cross_attention_dim"], generator=generator)]
    if args.controlnet:
        inputs.append(torch.rand(b, 3, args.height, args.width, generator=generator))
    if config.get("addition_embed_type") == "text_time":
        pooled = config["projection_class_embeddings_input_dim"] - 6 * config["addition_time_embed_dim"]
        inputs += [torch.randn(b, pooled, generator=generator),
                   torch.tensor([[args.height, args.width, 0, 0, args.height, args.width]] * b, dtype=torch.float32)]
    return inputs


if __name__ == "__main__":
    main()
