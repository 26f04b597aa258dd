"""Builds the tiny random-weight models of the SPEC §1 layout, in diffusers' folder formats.

    ../venv/bin/python Tests/Goldens/pipeline/build_models.py

- Tests/Fixtures/Weights/ (the random models directory of the tests): `tiny-sd15` (an SD1.5-shaped pipeline), canny, depth and
  pose ControlNets, and the style (base) and character (Plus) IP-Adapters.
- Tests/Goldens/pipeline/models/: `tiny-sdxl` with its canny and depth ControlNets and both adapters.

The weights are random (seeded): the models draw noise, not pictures, but every tensor has the
shape and the role of the real ones, so the pipeline can be checked number for number against
diffusers. Weights are stored as F16; every value is F16-exact before anything runs, so the Swift
runtime and diffusers (float32) compute with identical weights.
"""
import json
import os
import shutil
from pathlib import Path

import sys

import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import (CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPVisionConfig,
                          CLIPVisionModelWithProjection)

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "Tests" / "Goldens"))
import tiny_tokenizer  # noqa: E402

# The scheduler configs of the hub models (the shared data folder beside the checkout, or SHARED_DATA).
SHARED = Path(os.environ.get("SHARED_DATA", ROOT.parent / "shared" / "data"))
WEIGHTS = ROOT / "Tests" / "Fixtures" / "Weights"
TEST_MODELS = ROOT / "Tests" / "Goldens" / "pipeline" / "models"


def randomize(module, seed):
    """Fills zero-initialised parameters (ControlNet zero convolutions, some output layers) with small
    random values so that every weight matters, then rounds everything to F16-exact values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if torch.count_nonzero(p) == 0:
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
            p.copy_(p.half().float())
    return module.eval()


def save_f16(module, folder):
    module.to(torch.float16).save_pretrained(folder, safe_serialization=True)
    module.to(torch.float32)


def write_json(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")


def tokenizer(folder, pad_token):
    """CLIP's tokenizer cut after its first 2000 merges (Tests/Goldens/tiny_tokenizer.py), which the
    tiny text encoders' 2,514-row embeddings match; every folder holds a copy (git stores it once)."""
    tiny_tokenizer.write(folder)
    specials = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
                "pad_token": pad_token}
    write_json(folder / "special_tokens_map.json", specials)
    write_json(folder / "tokenizer_config.json",
               {"tokenizer_class": "CLIPTokenizer", "model_max_length": 77, "do_lower_case": True, **specials})


def text_encoder(seed, projection, hidden_act):
    torch.manual_seed(seed)
    config = CLIPTextConfig(vocab_size=tiny_tokenizer.VOCAB_SIZE, hidden_size=32, intermediate_size=37,
                            num_hidden_layers=5, num_attention_heads=4, max_position_embeddings=77,
                            hidden_act=hidden_act, projection_dim=32, bos_token_id=tiny_tokenizer.BOS_TOKEN_ID,
                            eos_token_id=tiny_tokenizer.EOS_TOKEN_ID, pad_token_id=1)
    model = (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)
    return randomize(model, seed)


def vae(seed, scaling_factor):
    torch.manual_seed(seed)
    model = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=8, layers_per_block=1,
                          block_out_channels=(8, 16, 16, 16), down_block_types=("DownEncoderBlock2D",) * 4,
                          up_block_types=("UpDecoderBlock2D",) * 4, sample_size=64, scaling_factor=scaling_factor)
    return randomize(model, seed)


def sd15_unet(seed):
    torch.manual_seed(seed)
    model = UNet2DConditionModel(sample_size=8, block_out_channels=(32, 64), layers_per_block=2,
                                 down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                 up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                                 cross_attention_dim=32, attention_head_dim=(2, 4), norm_num_groups=32)
    return randomize(model, seed)


def sdxl_unet(seed):
    torch.manual_seed(seed)
    model = UNet2DConditionModel(sample_size=64, block_out_channels=(32, 64), layers_per_block=2,
                                 down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                 up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                                 transformer_layers_per_block=(1, 2), attention_head_dim=(2, 4),
                                 use_linear_projection=True, addition_embed_type="text_time",
                                 addition_time_embed_dim=8, projection_class_embeddings_input_dim=32 + 6 * 8,
                                 cross_attention_dim=64, norm_num_groups=32)
    return randomize(model, seed)


def scheduler_config(folder, name):
    config = json.loads((SHARED / "scheduler-configs" / name).read_text())
    write_json(folder / "scheduler" / "scheduler_config.json", config)


def model_index(folder, class_name, extra):
    write_json(folder / "model_index.json", {"_class_name": class_name, "_diffusers_version": "0.42.1", **extra})


def build_sd15(models):
    folder = models / "tiny-sd15"
    save_f16(sd15_unet(1), folder / "unet")
    save_f16(vae(2, 0.18215), folder / "vae")
    save_f16(text_encoder(3, projection=False, hidden_act="quick_gelu"), folder / "text_encoder")
    tokenizer(folder / "tokenizer", "<|endoftext|>")
    scheduler_config(folder, "sd15-pndm.json")
    model_index(folder, "StableDiffusionPipeline", {
        "requires_safety_checker": False, "safety_checker": [None, None], "feature_extractor": [None, None],
        "image_encoder": [None, None], "scheduler": ["diffusers", "PNDMScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]})
    return UNet2DConditionModel.from_pretrained(folder / "unet")


def build_sdxl(models):
    folder = models / "tiny-sdxl"
    save_f16(sdxl_unet(11), folder / "unet")
    save_f16(vae(12, 0.13025), folder / "vae")
    save_f16(text_encoder(13, projection=False, hidden_act="quick_gelu"), folder / "text_encoder")
    save_f16(text_encoder(14, projection=True, hidden_act="gelu"), folder / "text_encoder_2")
    tokenizer(folder / "tokenizer", "<|endoftext|>")
    tokenizer(folder / "tokenizer_2", "!")
    scheduler_config(folder, "sdxl-euler.json")
    model_index(folder, "StableDiffusionXLPipeline", {
        "force_zeros_for_empty_prompt": True, "feature_extractor": [None, None], "image_encoder": [None, None],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]})
    return UNet2DConditionModel.from_pretrained(folder / "unet")


def controlnet(unet, seed, folder):
    torch.manual_seed(seed)
    model = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(8, 16, 16, 32))
    save_f16(randomize(model, seed), folder)


def image_encoder(seed, folder):
    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=37, num_hidden_layers=3, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=24, hidden_act="gelu")
    save_f16(randomize(CLIPVisionModelWithProjection(config), seed), folder / "image_encoder")
    return config


def cross_attention_widths(unet):
    """The inner width of every cross-attention, in diffusers' `attn_processors` order (the order
    `ip_adapter.<id>` numbers them 1, 3, 5, ...)."""
    widths = []
    for name in unet.attn_processors:
        if name.endswith("attn2.processor"):
            module = unet.get_submodule(name[: -len(".processor")])
            widths.append(module.to_k.out_features)
    return widths


def ip_adapter(unet, seed, folder, plus, vision):
    """An IP-Adapter in the original single-file layout (`image_proj.*`, `ip_adapter.<id>.to_k_ip/to_v_ip`)."""
    g = torch.Generator().manual_seed(seed)
    cross = unet.config.cross_attention_dim

    def rand(*shape, scale=None):
        scale = scale if scale is not None else shape[-1] ** -0.5
        return (torch.randn(shape, generator=g) * scale).half()

    sd = {}
    if plus:
        hidden, inner, queries = 48, 64, 16
        sd.update({"image_proj.latents": rand(1, queries, hidden), "image_proj.proj_in.weight": rand(hidden, vision.hidden_size),
                   "image_proj.proj_in.bias": rand(hidden, scale=0.1), "image_proj.proj_out.weight": rand(cross, hidden),
                   "image_proj.proj_out.bias": rand(cross, scale=0.1),
                   "image_proj.norm_out.weight": (1 + rand(cross, scale=0.1).float()).half(),
                   "image_proj.norm_out.bias": rand(cross, scale=0.1)})
        for i in range(4):
            p = f"image_proj.layers.{i}."
            for norm in ("0.norm1", "0.norm2", "1.0"):
                sd[p + norm + ".weight"] = (1 + rand(hidden, scale=0.1).float()).half()
                sd[p + norm + ".bias"] = rand(hidden, scale=0.1)
            sd[p + "0.to_q.weight"] = rand(inner, hidden)
            sd[p + "0.to_kv.weight"] = rand(2 * inner, hidden)
            sd[p + "0.to_out.weight"] = rand(hidden, inner)
            sd[p + "1.1.weight"] = rand(4 * hidden, hidden)
            sd[p + "1.3.weight"] = rand(hidden, 4 * hidden)
    else:
        sd.update({"image_proj.proj.weight": rand(4 * cross, vision.projection_dim),
                   "image_proj.proj.bias": rand(4 * cross, scale=0.1),
                   "image_proj.norm.weight": (1 + rand(cross, scale=0.1).float()).half(),
                   "image_proj.norm.bias": rand(cross, scale=0.1)})
    for k, width in enumerate(cross_attention_widths(unet)):
        sd[f"ip_adapter.{2 * k + 1}.to_k_ip.weight"] = rand(width, cross)
        sd[f"ip_adapter.{2 * k + 1}.to_v_ip.weight"] = rand(width, cross)
    folder.mkdir(parents=True, exist_ok=True)
    save_file(sd, folder / "ip-adapter.safetensors")


def adapters(unet, family, models, seed):
    for offset, (kind, plus) in enumerate((("style", False), ("character", True))):
        folder = models / "ip-adapters" / family / kind
        vision = image_encoder(seed + offset, folder)
        ip_adapter(unet, seed + 10 + offset, folder, plus, vision)


def main():
    for folder in (WEIGHTS / "tiny-sd15", WEIGHTS / "controlnets", WEIGHTS / "ip-adapters", TEST_MODELS):
        shutil.rmtree(folder, ignore_errors=True)
    unet = build_sd15(WEIGHTS)
    for offset, modality in enumerate(("canny", "depth", "pose")):
        controlnet(unet, 20 + offset, WEIGHTS / "controlnets" / "sd-1_5" / modality)
    adapters(unet, "sd-1_5", WEIGHTS, 30)
    unet = build_sdxl(TEST_MODELS)
    for offset, modality in enumerate(("canny", "depth")):
        controlnet(unet, 40 + offset, TEST_MODELS / "controlnets" / "sd-xl" / modality)
    adapters(unet, "sd-xl", TEST_MODELS, 50)


if __name__ == "__main__":
    main()
