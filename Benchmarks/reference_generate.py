"""PyTorch's side of `diffuse-bench generate` (issue 8's case (d)): one whole generation by diffusers'
StableDiffusionControlNetPipeline with an IP-Adapter loaded, from the random full-size models directory
diffuse-bench writes, on the request Benchmarks/generate/request.json (SD1.5, one canny ControlNet
with detection off, the base IP-Adapter with a ViT-H image encoder, 512x512, 20 steps, 1 image,
guidance 7.5). Float32 on 2 threads; prints one JSON object as its last line.

    .build/release/diffuse-bench generate --write-models /tmp/sd15-bench
    /work/venv/bin/python Benchmarks/reference_generate.py --models /tmp/sd15-bench

Loading and a warm-up generation at 64x64 in 1 step (`warmup_seconds`) come first; `seconds` is the
request's generation: text encoding, the image encoder, every step's ControlNet and UNet, the VAE
decode. --width, --height and --steps override the request's, for quick checks.

`--runtime openvino` runs the same generation in OpenVINO (PyPI `openvino`, Benchmarks/openvino_pipeline.py):
a child process converts the text encoder, the image encoder, the UNet with the IP-Adapter's attention
processors and the ControlNet (one denoiser model) and the VAE decoder at the request's static shapes;
they are compiled with `INFERENCE_PRECISION_HINT` f32 on the same threads, and the pipeline's loop (same
tokenizer, image processors, scheduler, seed) runs around them. Its warm-up is one step at the request's
size; `warmup_seconds` includes the conversion, `convert_peak_rss_bytes` is its peak memory. `--save-image
FILE.npy` from each runtime compares them: at 128x128 in 2 steps they are within 1e-5.

`--write-shapes` instead writes the weight manifests (Benchmarks/<kind>/<name>.weights.json) of the ViT-H
image encoder and, for SD1.5 and SDXL, the text encoder(s), the VAE and the IP-Adapter from their configs
and the UNet's; and SDXL's ControlNet, config included (`diffuse-bench generate --family sd-xl`; the
PyTorch side runs SD1.5 only).
"""
import argparse
import base64
import io
import json
import os
import time

import numpy as np
import torch
from diffusers import AutoencoderKL, ControlNetModel, StableDiffusionControlNetPipeline, UNet2DConditionModel
from PIL import Image
from transformers import (CLIPImageProcessorPil, CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection,
                          CLIPVisionConfig, CLIPVisionModelWithProjection)

import diffusers.schedulers as schedulers
import openvino_support
from bench_support import HERE, config_path, print_result, read_config, state_shapes, write_config, write_shapes
from openvino_pipeline import OpenVINOPipeline, save_networks

FAMILY = "sd-1_5"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", help="the models directory `diffuse-bench generate --write-models` wrote")
    parser.add_argument("--request", default=os.path.join(HERE, "generate", "request.json"))
    parser.add_argument("--width", type=int)
    parser.add_argument("--height", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runtime", choices=["torch", "openvino"], default="torch")
    parser.add_argument("--save-image", help="write the image (floats in [0, 1]) to this .npy file")
    parser.add_argument(openvino_support.CONVERT_FLAG, dest="convert_to", help=argparse.SUPPRESS)
    parser.add_argument("--write-shapes", action="store_true")
    args = parser.parse_args()
    if args.write_shapes:
        return write_all_shapes()
    if not args.models:
        parser.error("--models is required (write one with `diffuse-bench generate --write-models DIR`)")

    with open(args.request) as f:
        body = json.load(f)
    overrides = {"width": args.width, "height": args.height, "numInferenceSteps": args.steps}
    body.update({k: v for k, v in overrides.items() if v is not None})
    torch.set_num_threads(args.threads)
    if args.convert_to:
        return save_networks(load(args.models, body), body, conditioning_scale(body), args.convert_to)

    start = time.perf_counter()
    if args.runtime == "openvino":
        with openvino_support.ConvertedModels() as converted:
            pipe = OpenVINOPipeline(load(args.models, body, networks=False), vae_scaling_factor(args.models, body),
                                    converted, args.threads)
        run, runtime, extra = pipe, openvino_support.version(), {"convert_peak_rss_bytes": converted.peak_rss_bytes}
        warmup_body = {**body, "numInferenceSteps": 1}  # its shapes are static: the request's
    else:
        pipe = load(args.models, body)
        run, runtime, extra = torch_pipeline(pipe, body), f"torch {torch.__version__}", {}
        warmup_body = {**body, "width": 64, "height": 64, "numInferenceSteps": 1}
    generate(run, warmup_body)
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    image = generate(run, body)
    seconds = time.perf_counter() - start
    if args.save_image:
        np.save(args.save_image, image)
    print_result(runtime=runtime, width=body["width"], height=body["height"],
                 steps=body["numInferenceSteps"], guidance=body["guidance"],
                 scheduler=type(pipe.scheduler).__name__, threads=args.threads,
                 seconds=round(seconds, 3), warmup_seconds=round(warmup, 3),
                 output_finite=bool(np.isfinite(image).all()), image_mean=round(float(np.mean(image * 255)), 2), **extra)


def load(models, body, networks=True):
    """The pipeline of the request's model, its one ControlNet and its IP-Adapter, in float32; with
    `networks` False, the same pipeline without its networks (what runs around OpenVINO's)."""
    folder = os.path.join(models, body["modelId"])
    adapter = os.path.join(models, "ip-adapters", FAMILY, body.get("ipAdapterType", "style"))
    if networks:
        modality = body["modality"].partition(":")[0]
        controlnet = ControlNetModel.from_pretrained(os.path.join(models, "controlnets", FAMILY, modality),
                                                     torch_dtype=torch.float32)
        pipe = StableDiffusionControlNetPipeline.from_pretrained(
            folder, controlnet=controlnet, safety_checker=None, requires_safety_checker=False,
            torch_dtype=torch.float32)
        pipe.load_ip_adapter(adapter, subfolder="", weight_name="ip-adapter.safetensors")
        pipe.set_ip_adapter_scale(body.get("ipAdapterScale", 0.9))
        size = pipe.image_encoder.config.image_size
    else:
        none = dict.fromkeys(["text_encoder", "unet", "vae", "controlnet", "image_encoder"])
        pipe = StableDiffusionControlNetPipeline.from_pretrained(
            folder, **none, safety_checker=None, requires_safety_checker=False)
        size = CLIPVisionConfig.from_pretrained(os.path.join(adapter, "image_encoder")).image_size
    pipe.set_progress_bar_config(disable=True)
    if "scheduler" in body:
        pipe.scheduler = getattr(schedulers, body["scheduler"]).from_config(pipe.scheduler.config)
    # CLIPImageProcessor's PIL implementation, as the pipeline goldens use (no torchvision needed).
    pipe.feature_extractor = CLIPImageProcessorPil(size=size, crop_size=size)
    return pipe


def vae_scaling_factor(models, body):
    return AutoencoderKL.load_config(os.path.join(models, body["modelId"], "vae"))["scaling_factor"]


def conditioning_scale(body):
    """The ControlNet's scale: the request's `modality:scale`, 1 when not given."""
    return float(body["modality"].partition(":")[2] or 1.0)


def torch_pipeline(pipe, body):
    """diffusers' pipeline called as OpenVINOPipeline is, returning its one image."""
    def run(**arguments):
        return pipe(**arguments, controlnet_conditioning_scale=conditioning_scale(body), num_images_per_prompt=1,
                    output_type="np").images[0]
    return run


def generate(run, body):
    """The request's one image, as floats in [0, 1] (NaN stays visible)."""
    with torch.no_grad():
        return run(prompt=body["prompt"], negative_prompt=body.get("negativePrompt"),
                   image=decode(body["controlImage"]), ip_adapter_image=decode(body["ipAdapterImages"][0]),
                   num_inference_steps=body["numInferenceSteps"], guidance_scale=body["guidance"],
                   width=body["width"], height=body["height"],
                   generator=torch.Generator("cpu").manual_seed(int(body["seed"])))


def decode(data_url):
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB")


def write_all_shapes():
    with torch.device("meta"):
        vision = CLIPVisionModelWithProjection(CLIPVisionConfig.from_json_file(config_path("image_encoder", "vit-h")))
    write_shapes(state_shapes(vision), "image_encoder", "vit-h")
    for family in ("sd-1_5", "sd-xl"):
        with torch.device("meta"):
            unet = UNet2DConditionModel(**read_config("unet", family))
            models = family_models(family, unet)
        for kind, model in models.items():
            write_shapes(state_shapes(model), kind, family)
        write_shapes(ip_adapter_shapes(unet, vision.config.projection_dim), "ip-adapter", family)


def family_models(family, unet):
    """The models of `family` whose manifests this script writes, by kind (the UNet's and SD1.5's ControlNet's
    are reference_unet.py's). SDXL's ControlNet is `ControlNetModel.from_unet` of its UNet, the shape of
    diffusers/controlnet-canny-sdxl-1.0; its config is written too."""
    def text(kind, model_class):
        return model_class(CLIPTextConfig.from_json_file(config_path(kind, family)))
    models = {"text_encoder": text("text_encoder", CLIPTextModel), "vae": AutoencoderKL(**read_config("vae", family))}
    if family == "sd-xl":
        models["text_encoder_2"] = text("text_encoder_2", CLIPTextModelWithProjection)
        models["controlnet"] = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
        write_config(models["controlnet"], "controlnet", family)
    return models


def ip_adapter_shapes(unet, image_embed_dim, tokens=4):
    """The base IP-Adapter in its original layout (ip-adapter_sd15, ip-adapter_sdxl_vit-h): an ImageProjection
    to `tokens` tokens, and to_k_ip/to_v_ip for every cross-attention, numbered 1, 3, 5, ... in diffusers'
    `attn_processors` order."""
    cross = unet.config.cross_attention_dim
    shapes = {"image_proj.proj.weight": [tokens * cross, image_embed_dim], "image_proj.proj.bias": [tokens * cross],
              "image_proj.norm.weight": [cross], "image_proj.norm.bias": [cross]}
    cross_attentions = [name[:-len(".processor")] for name in unet.attn_processors if name.endswith("attn2.processor")]
    for k, name in enumerate(cross_attentions):
        width = unet.get_submodule(name).to_k.out_features
        for projection in ("to_k_ip", "to_v_ip"):
            shapes[f"ip_adapter.{2 * k + 1}.{projection}.weight"] = [width, cross]
    return shapes


if __name__ == "__main__":
    main()
