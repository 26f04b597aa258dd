"""A tiny SDXL ControlNet in the single-file forms it is published in, beside its diffusers folder.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt), after
generate_single_file.py (whose tiny SDXL UNet it copies):
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_controlnet_xl.py

- controlnet_xl/: the diffusers folder (config.json, diffusion_pytorch_model.safetensors, F16);
- controlnet_xl_single/controlnet-xl-tiny.safetensors: the same file alone, with no config,
  diffusers' keys (as diffusers/controlnet-canny-sdxl-1.0 and the `diffusers_xl_*` repacks are
  published); diffusers' `ControlNetModel.from_single_file(config=controlnet_xl)` must read it into
  the folder's tensors;
- control_xl_ldm.safetensors: the original layout (`control_model.input_blocks...`, SDXL's
  `label_emb` for the added time embedding). diffusers' `convert_controlnet_checkpoint` converts
  every tensor of it but `label_emb` (it has no SDXL mapping for ControlNets), which is checked
  here; the runtime reads `label_emb` as it does for SDXL UNets.
"""
import os
import shutil

import torch
from diffusers import ControlNetModel
from diffusers.loaders import single_file_utils as sfu
from safetensors.torch import load_file, save_file

import generate_single_file as layout

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    base = layout.unet(1, xl=True)
    torch.manual_seed(6)
    model = layout.f16_exact(ControlNetModel.from_unet(base, conditioning_embedding_out_channels=(4, 4, 4, 8)), 6)
    folder = os.path.join(HERE, "controlnet_xl")
    single = os.path.join(HERE, "controlnet_xl_single")
    for path in (folder, single):
        shutil.rmtree(path, ignore_errors=True)
    model.to(torch.float16).save_pretrained(folder, safe_serialization=True)
    model.to(torch.float32)
    state = layout.half(model.state_dict())

    os.makedirs(single)
    # The same bytes under a published name: a symbolic link keeps one copy in the repository.
    os.symlink("../controlnet_xl/diffusion_pytorch_model.safetensors", os.path.join(single, "controlnet-xl-tiny.safetensors"))
    loaded = ControlNetModel.from_single_file(
        os.path.join(single, "controlnet-xl-tiny.safetensors"), config=folder, local_files_only=True)
    layout.check_equal(layout.half(loaded.state_dict()), state, "controlnet-xl-tiny.safetensors")

    ldm = layout.half(layout.prefixed("control_model.", layout.to_original_unet(model.state_dict(), model.config, controlnet=True)))
    assert any(k.startswith("control_model.label_emb.") for k in ldm), "the original layout keeps SDXL's label_emb"
    save_file(ldm, os.path.join(HERE, "control_xl_ldm.safetensors"))
    converted = sfu.convert_controlnet_checkpoint(load_file(os.path.join(HERE, "control_xl_ldm.safetensors")), dict(model.config))
    without_added = {k: v for k, v in state.items() if not k.startswith("add_embedding.")}
    layout.check_equal({k: v for k, v in converted.items() if v is not None}, without_added, "control_xl_ldm.safetensors")
    for name in (folder, single, os.path.join(HERE, "control_xl_ldm.safetensors")):
        print(name, sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(name) for f in fs) if os.path.isdir(name)
              else os.path.getsize(name))


if __name__ == "__main__":
    main()
