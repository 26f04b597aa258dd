"""Sharded weights as diffusers' and transformers' save_pretrained(max_shard_size=...) write them.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt), after
generate_single_file.py:
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_sharded.py

The tiny SD1.5 VAE and CLIP text encoder of sd15/ are saved again under sharded/, each split into
shards of a few KB with an index (`diffusion_pytorch_model.safetensors.index.json`,
`model.safetensors.index.json` and their `weight_map`), plainly and as the fp16 variant
(`diffusion_pytorch_model.safetensors.index.fp16.json` + `diffusion_pytorch_model.fp16-0000i-of-0000n.safetensors`),
and the VAE once more as pickled `.bin` shards (`diffusion_pytorch_model.bin.index.json`). The
same libraries must load each form back into the folder's tensors, bit for bit.
"""
import os
import shutil
from pathlib import Path

import torch
from diffusers import AutoencoderKL
from transformers import CLIPTextModel

HERE = Path(__file__).resolve().parent
OUT = HERE / "sharded"


def same(a, b, label):
    assert a.keys() == b.keys(), label
    for k in a:
        assert torch.equal(a[k], b[k]), f"{label}: {k}"


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    vae = AutoencoderKL.from_pretrained(HERE / "sd15/vae", torch_dtype=torch.float16)
    text = CLIPTextModel.from_pretrained(HERE / "sd15/text_encoder", torch_dtype=torch.float16)
    vae.save_pretrained(OUT / "vae", max_shard_size="12KB")
    vae.save_pretrained(OUT / "vae-fp16", max_shard_size="12KB", variant="fp16")
    vae.save_pretrained(OUT / "vae-bin", max_shard_size="12KB", safe_serialization=False)
    text.save_pretrained(OUT / "text_encoder", max_shard_size="8KB")
    text.save_pretrained(OUT / "text_encoder-fp16", max_shard_size="8KB", variant="fp16")
    for name in ("vae", "vae-fp16", "vae-bin"):
        kwargs = {"variant": "fp16"} if name.endswith("fp16") else {"use_safetensors": False} if name.endswith("bin") else {}
        same(AutoencoderKL.from_pretrained(OUT / name, torch_dtype=torch.float16, **kwargs).state_dict(), vae.state_dict(), name)
    for name in ("text_encoder", "text_encoder-fp16"):
        kwargs = {"variant": "fp16"} if name.endswith("fp16") else {}
        same(CLIPTextModel.from_pretrained(OUT / name, dtype=torch.float16, **kwargs).state_dict(), text.state_dict(), name)
    for folder in sorted(OUT.iterdir()):
        print(folder.name, sorted(os.listdir(folder)))


if __name__ == "__main__":
    main()
