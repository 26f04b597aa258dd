"""The tiny default SD1.5 model (Tests/Fixtures/Weights/tiny-sd15) as an A1111/civitai single-file checkpoint, in a
folder with its diffusers configs beside it and no weights (as `from_single_file(config=...)` reads),
for SingleFileModelTests: the same requests give the same images from either form.

    ../venv/bin/python Tests/Goldens/pipeline/single_file.py

The original layout is written with the key tables of Tests/Goldens/checkpoints/generate_single_file.py,
and diffusers' own conversion must give back the folder's tensors.
"""
import os
import shutil
import sys
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
from safetensors.torch import load_file, save_file
from transformers import CLIPTextModel

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "Tests/Goldens/checkpoints"))
import generate_single_file as layout  # noqa: E402

SOURCE = ROOT / "Tests/Fixtures/Weights/tiny-sd15"
OUT = HERE / "single_file/tiny-sd15-single"


def main():
    unet = UNet2DConditionModel.from_pretrained(SOURCE / "unet")
    vae = AutoencoderKL.from_pretrained(SOURCE / "vae")
    text = CLIPTextModel.from_pretrained(SOURCE / "text_encoder")
    ldm = layout.prefixed("model.diffusion_model.", layout.to_original_unet(unet.state_dict(), unet.config))
    ldm.update(layout.prefixed("first_stage_model.", layout.to_original_vae(vae.state_dict(), vae.config)))
    ldm.update(layout.prefixed("cond_stage_model.transformer.", layout.clip_state(text)))
    ldm = layout.half(ldm)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    save_file(ldm, OUT / "tiny-sd15-single.safetensors")
    # Configs only: model_index.json and each component's config.json, and the tokenizer: the tiny
    # model's (CLIP's cut after 2000 merges), which its 2,514-row embedding matches, where the built-in
    # one has CLIP's 49,408 ids. The scheduler comes from the runtime's built-in defaults.
    shutil.copy(SOURCE / "model_index.json", OUT / "model_index.json")
    for component in ("unet", "vae", "text_encoder"):
        (OUT / component).mkdir()
        shutil.copy(SOURCE / component / "config.json", OUT / component / "config.json")
    shutil.copytree(SOURCE / "tokenizer", OUT / "tokenizer")

    checkpoint = load_file(OUT / "tiny-sd15-single.safetensors")
    layout.check_equal(sfu.convert_ldm_unet_checkpoint(checkpoint, dict(unet.config)), layout.half(unet.state_dict()), "unet")
    layout.check_equal(sfu.convert_ldm_vae_checkpoint(checkpoint, dict(vae.config)), layout.half(vae.state_dict()), "vae")
    clip = sfu.convert_ldm_clip_checkpoint(checkpoint)
    clip.pop("text_model.embeddings.position_ids", None)
    layout.check_equal(clip, layout.half(layout.clip_state(text)), "text_encoder")
    print(OUT, os.path.getsize(OUT / "tiny-sd15-single.safetensors"))


if __name__ == "__main__":
    main()
