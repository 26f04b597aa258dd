"""Whole pipelines from single files, as diffusers' `from_single_file(config=...)` loads them.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt), after
generate_single_file.py:
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_pipelines.py

Each case is a model folder under pipelines/: diffusers config files (model_index.json,
<component>/config.json, a tokenizer, a scheduler config) and no weights, beside one checkpoint:
- sd15-single: sd15.safetensors of generate_single_file.py (a symbolic link, no second copy);
- sd15-ckpt: the same tensors pickled as an A1111 `.ckpt` (torch.save of {"state_dict": ...});
- sdxl-single: sdxl.safetensors (a symbolic link).
The tiny text encoders have 1,000 tokens, so the tokenizers are CLIP's byte-level BPE with a
514-entry vocabulary (every byte, alone and word-final, and the two specials) and no merges.
diffusers' StableDiffusionPipeline / StableDiffusionXLPipeline.from_single_file(<file>,
config=<folder>) generates each case's images (pipelines/<name>/expected_<i>.png) with the
parameters of pipelines/manifest.json, in GenerationParameters' names.
"""
import json
import os
import shutil
import sys
from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent
OUT = HERE / "pipelines"
sys.path.insert(0, str(HERE.parent))
import tiny_tokenizer  # noqa: E402

CASES = [
    {"name": "sd15-single", "source": "sd15", "checkpoint": "sd15-single.safetensors", "prompt": "a red house",
     "negativePrompt": "blurry", "width": 24, "height": 16, "steps": 4, "guidance": 7.5, "seed": 5, "numSamples": 2},
    {"name": "sd15-ckpt", "source": "sd15", "checkpoint": "sd15-ckpt.ckpt", "prompt": "a red house",
     "negativePrompt": "blurry", "width": 24, "height": 16, "steps": 4, "guidance": 7.5, "seed": 5, "numSamples": 2},
    {"name": "sdxl-single", "source": "sdxl", "checkpoint": "sdxl-single.safetensors", "prompt": "a blue lake",
     "negativePrompt": "noise", "width": 16, "height": 24, "steps": 3, "guidance": 6.0, "seed": 8, "numSamples": 1},
]


def write_tokenizer(folder, pad):
    folder.mkdir(parents=True)
    tiny_tokenizer.write(folder, count=0)  # CLIP's tokenizer with no merges: the 514 byte and special tokens
    (folder / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True,
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>", "pad_token": pad}, indent=1))


def model_index(xl):
    components = {"scheduler": ["diffusers", "EulerDiscreteScheduler" if xl else "PNDMScheduler"],
                  "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
                  "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
                  "feature_extractor": [None, None], "image_encoder": [None, None]}
    if xl:
        components.update({"text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
                           "tokenizer_2": ["transformers", "CLIPTokenizer"]})
        return {"_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.42.1",
                "force_zeros_for_empty_prompt": True, **components}
    return {"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1", "requires_safety_checker": False,
            "safety_checker": [None, None], **components}


SCHEDULERS = {
    "PNDMScheduler": {"beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
                      "num_train_timesteps": 1000, "set_alpha_to_one": False, "skip_prk_steps": True, "steps_offset": 1},
    "EulerDiscreteScheduler": {"beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
                               "interpolation_type": "linear", "num_train_timesteps": 1000, "prediction_type": "epsilon",
                               "steps_offset": 1, "timestep_spacing": "leading", "use_karras_sigmas": False},
}


def write_folder(case):
    folder = OUT / case["name"]
    source = HERE / case["source"]
    xl = case["source"] == "sdxl"
    folder.mkdir(parents=True)
    index = model_index(xl)
    (folder / "model_index.json").write_text(json.dumps(index, indent=1) + "\n")
    for component in ["unet", "vae", "text_encoder"] + (["text_encoder_2"] if xl else []):
        (folder / component).mkdir()
        shutil.copy(source / component / "config.json", folder / component / "config.json")
    write_tokenizer(folder / "tokenizer", "<|endoftext|>")
    if xl:
        write_tokenizer(folder / "tokenizer_2", "!")
    scheduler = index["scheduler"][1]
    (folder / "scheduler").mkdir()
    (folder / "scheduler" / "scheduler_config.json").write_text(
        json.dumps({"_class_name": scheduler, **SCHEDULERS[scheduler]}, indent=1) + "\n")
    checkpoint = folder / case["checkpoint"]
    if checkpoint.suffix == ".ckpt":
        # A1111's form: the tensors under "state_dict", in torch.save's zip format.
        torch.save({"state_dict": load_file(HERE / f"{case['source']}.safetensors")}, checkpoint)
    else:
        os.symlink(f"../../{case['source']}.safetensors", checkpoint)
    return folder, checkpoint


def generate(case, folder, checkpoint):
    xl = case["source"] == "sdxl"
    extra = {} if xl else {"safety_checker": None, "requires_safety_checker": False}
    pipe = (StableDiffusionXLPipeline if xl else StableDiffusionPipeline).from_single_file(
        str(checkpoint), config=str(folder), torch_dtype=torch.float32, local_files_only=True, **extra)
    pipe.set_progress_bar_config(disable=True)
    n = case["numSamples"]
    generators = [torch.Generator("cpu").manual_seed(case["seed"] + i) for i in range(n)]
    with torch.no_grad():
        return pipe(prompt=case["prompt"], negative_prompt=case["negativePrompt"], num_inference_steps=case["steps"],
                    guidance_scale=case["guidance"], width=case["width"], height=case["height"], num_images_per_prompt=n,
                    generator=generators, output_type="pil").images


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    for case in CASES:
        folder, checkpoint = write_folder(case)
        for i, image in enumerate(generate(case, folder, checkpoint)):
            image.save(folder / f"expected_{i}.png")
        print(case["name"], sorted(os.listdir(folder)))
    (OUT / "manifest.json").write_text(json.dumps(CASES, indent=1) + "\n")


if __name__ == "__main__":
    main()
