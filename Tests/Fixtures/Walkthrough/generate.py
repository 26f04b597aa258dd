"""Writes the walkthrough test's fixtures: how to turn the committed tiny models into the forms the
published files of Weights/README.md's "Installing real models" have (WalkthroughTests).

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Fixtures/Walkthrough/generate.py

key_map.json: for the trained tiny models of Weights/ (shapes-sd15's unet, vae, text_encoder and the
canny ControlNet), each diffusers tensor name with the name and shape the original (A1111 /
lllyasviel) layout gives it, keyed as the committed files store them, built with Tests/Goldens/checkpoints/generate_single_file.py's tables
and checked here with diffusers' own single_file_utils conversions, which must turn the renamed
tensors back into the folder's exactly (the ControlNet's conditioning embedding excepted: diffusers'
convert_controlnet_checkpoint assumes the real four-level embedding, the tiny model has three; its
`input_hint_block.<2(k+1)>` numbering is the same rule). The Swift test renames the committed
safetensors with this map, so no weights are committed twice.

mlsd_large_512_fp32.pth: M-LSD (controlnet_aux's MobileV2_MLSD_Large) under its published names
and real shapes (Tests/Goldens/detectors/lines_weights.json) in torch.save's zip form, each tensor a
broadcast view of one shared storage as long as the widest last dimension, so the file is a few KB (the real one is 6 MB).
"""
import json
import os
import sys
from collections import OrderedDict

import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
from safetensors import safe_open
from transformers import CLIPTextModel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Goldens", "checkpoints"))
from generate_single_file import check_equal, clip_state, prefixed, to_original_unet, to_original_vae  # noqa: E402

WEIGHTS = os.path.join(ROOT, "Weights")


def entries(original, diffusers_names):
    """diffusers name -> [original name, original shape], from a renaming that kept the tensors' order."""
    return {d: [o, list(t.shape)] for d, (o, t) in zip(diffusers_names, original.items())}


def keyed_as_saved(entries, path):
    """The entries keyed by the names the committed file stores (transformers 5 drops `text_model.`)."""
    with safe_open(path, "pt") as f:
        saved = set(f.keys())
    out = {(name if name in saved else name.removeprefix("text_model.")): entry for name, entry in entries.items()}
    assert set(out) == saved, path
    return out


def pipeline_maps():
    unet = UNet2DConditionModel.from_pretrained(os.path.join(WEIGHTS, "shapes-sd15"), subfolder="unet")
    vae = AutoencoderKL.from_pretrained(os.path.join(WEIGHTS, "shapes-sd15"), subfolder="vae")
    text = CLIPTextModel.from_pretrained(os.path.join(WEIGHTS, "shapes-sd15"), subfolder="text_encoder")
    maps = {}
    checkpoint = {}
    for name, model, state, convert in [
        ("unet", unet, unet.state_dict(), lambda s: to_original_unet(s, unet.config)),
        ("vae", vae, vae.state_dict(), lambda s: to_original_vae(s, vae.config)),
        ("text_encoder", text, clip_state(text), lambda s: s),
    ]:
        prefix = {"unet": "model.diffusion_model.", "vae": "first_stage_model.", "text_encoder": "cond_stage_model.transformer."}[name]
        original = prefixed(prefix, convert(OrderedDict(state)))
        assert len(original) == len(state), name
        weights = "model.safetensors" if name == "text_encoder" else "diffusion_pytorch_model.safetensors"
        maps[name] = keyed_as_saved(entries(original, list(state)), os.path.join(WEIGHTS, "shapes-sd15", name, weights))
        checkpoint.update(original)
    # What diffusers reads from such a file is the folder's tensors.
    check_equal(sfu.convert_ldm_unet_checkpoint(checkpoint, dict(unet.config)), unet.state_dict(), "unet")
    check_equal(sfu.convert_ldm_vae_checkpoint(checkpoint, dict(vae.config)), vae.state_dict(), "vae")
    clip = sfu.convert_ldm_clip_checkpoint(checkpoint)
    clip.pop("text_model.embeddings.position_ids", None)
    check_equal(clip, clip_state(text), "text_encoder")
    return maps


def controlnet_map():
    model = ControlNetModel.from_pretrained(os.path.join(WEIGHTS, "controlnets", "sd-1_5", "canny"))
    state = OrderedDict(model.state_dict())
    original = prefixed("control_model.", to_original_unet(state, model.config, controlnet=True))
    assert sfu.infer_diffusers_model_type(original) == "controlnet"
    converted = sfu.convert_controlnet_checkpoint(original, dict(model.config))
    embedding = [k for k in state if k.startswith("controlnet_cond_embedding.")]
    check_equal({k: v for k, v in converted.items() if v is not None and not k.startswith("controlnet_cond_embedding.")},
                {k: v for k, v in state.items() if k not in embedding}, "controlnet")
    return keyed_as_saved(entries(original, list(state)),
                          os.path.join(WEIGHTS, "controlnets", "sd-1_5", "canny", "diffusion_pytorch_model.safetensors"))


def mlsd_standin():
    with open(os.path.join(ROOT, "Tests", "Goldens", "detectors", "lines_weights.json")) as f:
        manifest = json.load(f)
    width = max(entry["shape"][-1] for entry in manifest.values())
    base = 0.5 + 0.25 * torch.sin(torch.arange(width, dtype=torch.float32) * 0.7)  # positive: running variances too
    state = OrderedDict((name, base[: manifest[name]["shape"][-1]].expand(manifest[name]["shape"])) for name in sorted(manifest))
    torch.save(state, os.path.join(HERE, "mlsd_large_512_fp32.pth"))
    loaded = torch.load(os.path.join(HERE, "mlsd_large_512_fp32.pth"), weights_only=True)
    assert all(torch.equal(loaded[k], state[k]) and list(loaded[k].shape) == manifest[k]["shape"] for k in manifest)


def main():
    maps = pipeline_maps()
    maps["controlnet"] = controlnet_map()
    with open(os.path.join(HERE, "key_map.json"), "w") as f:
        json.dump(maps, f, indent=0, sort_keys=True)
    mlsd_standin()


if __name__ == "__main__":
    main()
