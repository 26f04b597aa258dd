"""Writes the key names and shapes of full-size SD1.5 and SDXL base single-file checkpoints (no weights).

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_real_keys.py

The models are built at their real sizes on torch's meta device (shapes only, no memory), with the
configs of the hub's stable-diffusion-v1-5 and stable-diffusion-xl-base-1.0 folders, re-keyed into the
original layout as generate_single_file.py does, and checked with diffusers' own single-file code:
infer_diffusers_model_type names them "v1" and "xl_base", and convert_ldm_*_checkpoint gives back every
diffusers name with its shape; likewise an SD1.5 ControlNet (convert_controlnet_checkpoint). real_keys.json holds, per family, the original keys' shapes, the
diffusers names' shapes per component, and the components' configs, so the Swift tests check the
key maps and the config inference at full scale without 7 GB of weights.
"""
import json
import os

import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

from generate_single_file import clip_state, prefixed, to_open_clip, to_original_unet, to_original_vae

HERE = os.path.dirname(os.path.abspath(__file__))

SD15_UNET = dict(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
SDXL_UNET = dict(sample_size=128, block_out_channels=(320, 640, 1280), layers_per_block=2,
                 down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                 up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                 transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), use_linear_projection=True,
                 addition_embed_type="text_time", addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816,
                 cross_attention_dim=2048)
VAE = dict(block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
           up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4)
CLIP_L = dict(vocab_size=49408, hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
              max_position_embeddings=77, hidden_act="quick_gelu", projection_dim=768, bos_token_id=0, eos_token_id=2)
CLIP_G = dict(vocab_size=49408, hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=20,
              max_position_embeddings=77, hidden_act="gelu", projection_dim=1280, bos_token_id=0, eos_token_id=2)


def shapes(state):
    return {k: list(v.shape) for k, v in sorted(state.items())}


def family(xl):
    with torch.device("meta"):
        unet = UNet2DConditionModel(**(SDXL_UNET if xl else SD15_UNET))
        vae = AutoencoderKL(**VAE, sample_size=1024 if xl else 512, scaling_factor=0.13025 if xl else 0.18215)
        text = CLIPTextModel(CLIPTextConfig(**CLIP_L))
        text_2 = CLIPTextModelWithProjection(CLIPTextConfig(**CLIP_G)) if xl else None
    original = prefixed("model.diffusion_model.", to_original_unet(unet.state_dict(), unet.config))
    original.update(prefixed("first_stage_model.", to_original_vae(vae.state_dict(), vae.config)))
    components = {"unet": (unet, unet.state_dict()), "vae": (vae, vae.state_dict()), "text_encoder": (text, clip_state(text))}
    if xl:
        original.update(prefixed("conditioner.embedders.0.transformer.", clip_state(text)))
        original.update(prefixed("conditioner.embedders.1.model.", to_open_clip(clip_state(text_2))))
        components["text_encoder_2"] = (text_2, clip_state(text_2))
    else:
        original.update(prefixed("cond_stage_model.transformer.", clip_state(text)))
    assert sfu.infer_diffusers_model_type(original) == ("xl_base" if xl else "v1")
    converted = {
        "unet": sfu.convert_ldm_unet_checkpoint(original, dict(unet.config)),
        "vae": sfu.convert_ldm_vae_checkpoint(original, dict(vae.config)),
        "text_encoder": sfu.convert_ldm_clip_checkpoint(original),
    }
    if xl:
        converted["text_encoder_2"] = sfu.convert_open_clip_checkpoint(text_2, original, prefix="conditioner.embedders.1.model.")
    for name, (_, state) in components.items():
        assert shapes(converted[name]) == shapes(state), name
    configs = {name: (model.config.to_dict() if hasattr(model.config, "to_dict") else dict(model.config))
               for name, (model, _) in components.items()}
    return {"original": shapes(original), "components": {n: shapes(s) for n, (_, s) in components.items()},
            "configs": json.loads(json.dumps(configs, default=list))}


def controlnet():
    """lllyasviel's SD1.5 ControlNet layout (`control_model.*`, hint blocks 0 to 14)."""
    with torch.device("meta"):
        model = ControlNetModel.from_unet(UNet2DConditionModel(**SD15_UNET))
    original = prefixed("control_model.", to_original_unet(model.state_dict(), model.config, controlnet=True))
    assert sfu.infer_diffusers_model_type(original) == "controlnet"
    assert shapes(sfu.convert_controlnet_checkpoint(original, dict(model.config))) == shapes(model.state_dict())
    return {"original": shapes(original), "components": {"controlnet": shapes(model.state_dict())},
            "configs": {"controlnet": json.loads(json.dumps(dict(model.config), default=list))}}


def main():
    payload = {"sd15": family(xl=False), "sdxl": family(xl=True), "controlnet_sd15": controlnet()}
    with open(os.path.join(HERE, "real_keys.json"), "w") as f:
        json.dump(payload, f, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    main()
