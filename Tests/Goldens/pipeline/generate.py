"""End-to-end goldens: requests of the endpoint's body run through diffusers' ControlNet pipelines
with IP-Adapters, exactly as SPEC §3 describes, on the tiny models of build_models.py.

    ../venv/bin/python Tests/Goldens/pipeline/build_models.py   # once: the models
    ../venv/bin/python Tests/Goldens/pipeline/generate.py

Writes Tests/Goldens/pipeline/cases/<name>/request.json (the request body, images as data URLs),
expected_<i>.png (diffusers' image for sample i) and cases/manifest.json (each case's models directory).
"""
import base64
import io
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from diffusers import (ControlNetModel, StableDiffusionControlNetPipeline, StableDiffusionXLControlNetPipeline)
from PIL import Image, ImageDraw
from transformers import CLIPImageProcessorPil

import diffusers.schedulers as schedulers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CASES = HERE / "cases"
MODELS = {"sd-1_5": ROOT / "Tests" / "Fixtures" / "Weights", "sd-xl": HERE / "models"}
MODEL_IDS = {"sd-1_5": "tiny-sd15", "sd-xl": "tiny-sdxl"}
PRESETS = {"character": ["depth", "pose"], "landscape": ["depth", "canny"], "city": ["canny", "depth", "seg"],
           "interior": ["lines", "depth", "seg"]}


# ------------------------------------------------------------------ inputs

def control_image(width, height, seed):
    """Shapes on a gradient: edges and regions, like a real control map."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1), (x + y) % 256], -1)
    image = Image.fromarray(base.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        x1, y1 = x0 + rng.integers(8, width // 2 + 9), y0 + rng.integers(8, height // 2 + 9)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)([x0, y0, x1, y1], fill=colour)
    return image


def reference_image(width, height, seed):
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 256, (height // 4 + 1, width // 4 + 1, 3)).astype(np.uint8)
    return Image.fromarray(noise).resize((width, height), Image.BICUBIC)


def data_url(image, fmt="PNG"):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    mime = "image/png" if fmt == "PNG" else "image/jpeg"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


def decode(url):
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")


# ------------------------------------------------------------------ the request, resolved as SPEC §2 says

def modalities(spec):
    entries = []
    for part in spec.split(","):
        name, _, value = part.partition(":")
        entries.append((name, float(value) if value else 1.0))
    if len(entries) == 1 and entries[0][0] in PRESETS:
        name, value = entries[0]
        return [(member, value) for member in PRESETS[name]]
    return entries


def run(body, family, prepare=None):
    """diffusers' images for `body`; `prepare(pipe)` may change the pipeline first (LoRAs: concepts.py)."""
    models = MODELS[family]
    model_dir = models / body["modelId"]
    mods = modalities(body["modality"])
    nets = [ControlNetModel.from_pretrained(models / "controlnets" / family / m, torch_dtype=torch.float32)
            for m, _ in mods]
    pipeline_class = StableDiffusionControlNetPipeline if family == "sd-1_5" else StableDiffusionXLControlNetPipeline
    extra = {"safety_checker": None, "requires_safety_checker": False} if family == "sd-1_5" else {}
    pipe = pipeline_class.from_pretrained(model_dir, controlnet=nets if len(nets) > 1 else nets[0],
                                          torch_dtype=torch.float32, **extra)
    pipe.set_progress_bar_config(disable=True)
    if "scheduler" in body:
        pipe.scheduler = getattr(schedulers, body["scheduler"]).from_config(pipe.scheduler.config)

    images = body["ipAdapterImages"]
    scales = body.get("ipAdapterScales", [body.get("ipAdapterScale", 0.9)] * len(images))
    adapter = models / "ip-adapters" / family / body.get("ipAdapterType", "style")
    pipe.load_ip_adapter([str(adapter)] * len(images), subfolder=[""] * len(images),
                         weight_name=["ip-adapter.safetensors"] * len(images))
    # CLIPImageProcessor falls back to this PIL implementation without torchvision; named explicitly
    # so the reference does not depend on whether torchvision happens to be installed.
    size = pipe.image_encoder.config.image_size
    pipe.feature_extractor = CLIPImageProcessorPil(size=size, crop_size=size)
    pipe.set_ip_adapter_scale(scales)
    if prepare:
        prepare(pipe)

    n = body.get("numSamples", 4)
    seed = int(body["seed"])
    width, height = body.get("width", 512), body.get("height", 512)
    control = decode(body["controlImage"])
    generators = [torch.Generator("cpu").manual_seed((seed + i) % 2**64) for i in range(n)]
    start, end = body.get("controlStart", 0.0), body.get("controlEnd", 1.0)
    with torch.no_grad():
        result = pipe(
            prompt=body["prompt"], negative_prompt=body.get("negativePrompt"),
            image=control if len(nets) == 1 else [control] * len(nets),
            controlnet_conditioning_scale=mods[0][1] if len(nets) == 1 else [v for _, v in mods],
            control_guidance_start=start if len(nets) == 1 else [start] * len(nets),
            control_guidance_end=end if len(nets) == 1 else [end] * len(nets),
            ip_adapter_image=[decode(u) for u in images],
            num_inference_steps=body.get("numInferenceSteps", 30),
            guidance_scale=body.get("guidance", 7.5 if family == "sd-1_5" else 6.0),
            width=width, height=height, num_images_per_prompt=n, generator=generators, output_type="pil")
    return result.images


# ------------------------------------------------------------------ the cases

def case(name, family, width=64, height=64, refs=((48, 40),), **fields):
    seed = sum(map(ord, name))
    body = {"modelId": MODEL_IDS[family], "prompt": fields.pop("prompt", "a red house by a lake, oil painting"),
            "controlImage": data_url(control_image(width + 16, height + 8, seed)),
            "ipAdapterImages": [data_url(reference_image(w, h, seed + k), "JPEG" if k % 2 else "PNG")
                                for k, (w, h) in enumerate(refs)],
            "width": width, "height": height, **fields}
    return name, family, body


CASE_LIST = [
    case("sd15_canny_pndm", "sd-1_5", modality="canny", seed="42", numSamples=2, numInferenceSteps=6),
    case("sd15_character_plus_euler_a", "sd-1_5", width=64, height=96, modality="character:0.8",
         ipAdapterType="character", scheduler="EulerAncestralDiscreteScheduler", negativePrompt="blurry, dark",
         seed="7", numSamples=2, numInferenceSteps=5),
    case("sd15_two_nets_window_dpmpp", "sd-1_5", width=96, height=64, modality="canny:0.5,depth:0.8",
         controlStart=0.2, controlEnd=0.8, refs=((48, 40), (40, 64)), ipAdapterScales=[0.5, 0.9],
         scheduler="DPMSolverMultistepScheduler", seed="1234", numSamples=1, numInferenceSteps=8),
    case("sd15_no_cfg_ddim", "sd-1_5", modality="pose", guidance=1.0, scheduler="DDIMScheduler",
         negativePrompt="ignored at guidance 1", seed="99", numSamples=1, numInferenceSteps=5),
    case("sd15_kdpm2_ancestral_big_seed", "sd-1_5", modality="depth:0.6", scheduler="KDPM2AncestralDiscreteScheduler",
         seed="9223372036854775900", numSamples=2, numInferenceSteps=4, ipAdapterScale=0.4),
    case("sd15_unipc_guidance3", "sd-1_5", modality="canny", guidance=3.0, scheduler="UniPCMultistepScheduler",
         seed="5", numSamples=1, numInferenceSteps=6, ipAdapterType="character"),
    case("sd15_heun_landscape", "sd-1_5", modality="landscape", scheduler="HeunDiscreteScheduler", seed="314",
         numSamples=1, numInferenceSteps=4),
    case("sd15_ddpm_three_refs", "sd-1_5", modality="canny,depth,pose", scheduler="DDPMScheduler",
         refs=((48, 40), (32, 32), (64, 48)), ipAdapterScales=[0.3, 0.6, 1.0], seed="2024", numSamples=1,
         numInferenceSteps=5),
    case("sd15_lms_seed_wraps", "sd-1_5", modality="canny", scheduler="LMSDiscreteScheduler",
         seed="18446744073709551615", numSamples=2, numInferenceSteps=5),
    case("sdxl_canny_euler_zero_negative", "sd-xl", width=512, height=512, modality="canny", seed="11",
         numSamples=1, numInferenceSteps=4),
    case("sdxl_landscape_plus_dpm_single", "sd-xl", width=512, height=576, modality="landscape:0.7",
         ipAdapterType="character", negativePrompt="low quality", scheduler="DPMSolverSinglestepScheduler",
         seed="12", numSamples=1, numInferenceSteps=4),
    case("sdxl_tcd_two_refs", "sd-xl", width=576, height=512, modality="depth", guidance=1.0,
         scheduler="TCDScheduler", refs=((48, 40), (40, 64)), ipAdapterScales=[0.7, 0.2], seed="13",
         numSamples=1, numInferenceSteps=3),
]


def main():
    shutil.rmtree(CASES, ignore_errors=True)
    manifest = []
    for name, family, body in CASE_LIST:
        folder = CASES / name
        folder.mkdir(parents=True)
        (folder / "request.json").write_text(json.dumps(body, indent=1) + "\n")
        images = run(body, family)
        for i, image in enumerate(images):
            image.save(folder / f"expected_{i}.png")
        manifest.append({"name": name, "models": str(MODELS[family].relative_to(ROOT)), "samples": len(images)})
        print(name, len(images), images[0].size)
    (CASES / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
