"""Reference outputs of the IP-Adapter image projections (base ImageProjection and the Plus
Resampler), read from the original `ip-adapter.safetensors` layout through diffusers' own converter.

Run from the repository root with the pinned reference venv (Tests/Goldens/requirements.txt):
    ../venv/bin/python Tests/Goldens/ipadapter/generate.py
Writes Tests/Goldens/ipadapter/projection.safetensors: the original-layout weights under
"<variant>.image_proj.*" (F16, as shipped checkpoints often are), and per case the input
("<variant>.x") and diffusers' output ("<variant>.out", F32); and encoder_unet.safetensors: the
default models' image encoders and the tiny SD1.5 UNet with adapters attached by diffusers.
"""
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from safetensors.torch import save_file

torch.manual_seed(0)
HERE = Path(__file__).parent


def f16(t):
    """Rounded to F16 and back, so the stored weights are exactly what the reference used."""
    return t.half().float()


def base_layout(clip_dim, cross_dim):
    return {"proj.weight": f16(torch.randn(4 * cross_dim, clip_dim) / clip_dim**0.5),
            "proj.bias": f16(torch.randn(4 * cross_dim) * 0.1),
            "norm.weight": f16(1 + 0.1 * torch.randn(cross_dim)),
            "norm.bias": f16(0.1 * torch.randn(cross_dim))}


def plus_layout(embed_dims, hidden_dims, output_dims, heads, queries, depth=4):
    """The original Resampler's keys: layers.i.0 is PerceiverAttention, layers.i.1 the feed-forward."""
    inner = 64 * heads
    sd = {"latents": f16(torch.randn(1, queries, hidden_dims) / hidden_dims**0.5),
          "proj_in.weight": f16(torch.randn(hidden_dims, embed_dims) / embed_dims**0.5),
          "proj_in.bias": f16(0.1 * torch.randn(hidden_dims)),
          "proj_out.weight": f16(torch.randn(output_dims, hidden_dims) / hidden_dims**0.5),
          "proj_out.bias": f16(0.1 * torch.randn(output_dims)),
          "norm_out.weight": f16(1 + 0.1 * torch.randn(output_dims)),
          "norm_out.bias": f16(0.1 * torch.randn(output_dims))}
    for i in range(depth):
        p = f"layers.{i}."
        for norm in ("0.norm1", "0.norm2", "1.0"):
            sd[p + norm + ".weight"] = f16(1 + 0.1 * torch.randn(hidden_dims))
            sd[p + norm + ".bias"] = f16(0.1 * torch.randn(hidden_dims))
        sd[p + "0.to_q.weight"] = f16(torch.randn(inner, hidden_dims) / hidden_dims**0.5)
        sd[p + "0.to_kv.weight"] = f16(torch.randn(2 * inner, hidden_dims) / hidden_dims**0.5)
        sd[p + "0.to_out.weight"] = f16(torch.randn(hidden_dims, inner) / inner**0.5)
        sd[p + "1.1.weight"] = f16(torch.randn(4 * hidden_dims, hidden_dims) / hidden_dims**0.5)
        sd[p + "1.3.weight"] = f16(torch.randn(hidden_dims, 4 * hidden_dims) / (4 * hidden_dims)**0.5)
    return sd


def convert(state_dict):
    """diffusers' own conversion from the original layout (a method of the UNet loader mixin)."""
    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=32,
                                norm_num_groups=32, sample_size=8,
                                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"))
    return unet._convert_ip_adapter_image_proj_to_diffusers(state_dict, low_cpu_mem_usage=False).eval()


def main():
    out = {}
    cases = {
        # base: image embeds [batch, clip_dim] -> 4 tokens of cross_dim.
        "base": (base_layout(clip_dim=40, cross_dim=24), torch.randn(2, 40)),
        # Plus: penultimate hidden states [batch, patches + 1, embed_dims] -> `queries` tokens.
        "plus": (plus_layout(embed_dims=40, hidden_dims=48, output_dims=24, heads=2, queries=5),
                 torch.randn(2, 17, 40)),
    }
    for name, (state_dict, x) in cases.items():
        with torch.no_grad():
            y = convert(dict(state_dict))(x)
        for key, value in state_dict.items():
            out[f"{name}.image_proj.{key}"] = value.half()
        out[f"{name}.x"] = x.contiguous()
        out[f"{name}.out"] = y.contiguous()
        print(name, tuple(y.shape))
    save_file(out, HERE / "projection.safetensors", metadata={"torch": torch.__version__})


# ---------------------------------------------------------------- image encoder and the UNet with adapters

def encoder_and_unet():
    """The image encoder of each adapter of the default models directory (CLIPVisionModelWithProjection:
    image embeds and penultimate hidden states) and the tiny SD1.5 UNet with IP-Adapters attached
    through diffusers' own loader: two base instances with different scales, and one Plus."""
    from safetensors.torch import load_file
    from transformers import CLIPVisionModelWithProjection

    weights = HERE.parents[2] / "Tests" / "Fixtures" / "Weights"
    out = {}
    torch.manual_seed(1)
    pixels = torch.randn(2, 3, 32, 32)
    out["pixels"] = pixels
    features = {}
    for kind in ("style", "character"):
        folder = weights / "ip-adapters" / "sd-1_5" / kind
        encoder = CLIPVisionModelWithProjection.from_pretrained(folder / "image_encoder").float().eval()
        with torch.no_grad():
            result = encoder(pixels, output_hidden_states=True)
        out[f"{kind}.image_embeds"] = result.image_embeds
        out[f"{kind}.penultimate"] = result.hidden_states[-2]
        features[kind] = result.image_embeds if kind == "style" else result.hidden_states[-2]

    sample, context = torch.randn(2, 4, 8, 12), torch.randn(2, 77, 32)
    out["sample"], out["context"] = sample, context

    def with_adapters(models, model_id, family, kinds, scales, embeds, inputs, added):
        """The UNet's prediction with one adapter instance per entry of `kinds`, loaded by diffusers."""
        unet = UNet2DConditionModel.from_pretrained(models / model_id / "unet").float().eval()
        unet._load_ip_adapter_weights([split(models / "ip-adapters" / family / k / "ip-adapter.safetensors")
                                       for k in kinds], low_cpu_mem_usage=False)
        for processor in unet.attn_processors.values():
            if hasattr(processor, "scale"):
                processor.scale = scales
        with torch.no_grad():
            return unet(*inputs, added_cond_kwargs={**added, "image_embeds": [e[:, None] for e in embeds]}).sample

    def split(path):
        state = load_file(path)
        return {"image_proj": {k[len("image_proj."):]: v.float() for k, v in state.items() if k.startswith("image_proj.")},
                "ip_adapter": {k[len("ip_adapter."):]: v.float() for k, v in state.items() if k.startswith("ip_adapter.")}}

    runs = {"two_style": (["style", "style"], [0.9, 0.35]), "character": (["character"], [0.6])}
    for name, (kinds, scales) in runs.items():
        # The second style image gets different features: the encoder's output for the flipped batch.
        embeds = [features[k].flip(0) if i == 1 else features[k] for i, k in enumerate(kinds)]
        out[f"{name}.prediction"] = with_adapters(weights, "tiny-sd15", "sd-1_5", kinds, scales, embeds,
                                                  (sample, 451.0, context), {})

    # SDXL: the tiny SDXL UNet (text_time embedding, linear projections, two transformer layers)
    # with its own adapters, two base instances and one Plus, on its own encoders' features.
    sdxl_models = HERE.parent / "pipeline" / "models"
    sdxl_context = torch.randn(2, 77, 64)
    added = {"text_embeds": torch.randn(2, 32), "time_ids": torch.tensor([[64.0, 96, 0, 0, 64, 96]] * 2)}
    out["sdxl.context"], out["sdxl.text_embeds"], out["sdxl.time_ids"] = sdxl_context, added["text_embeds"], added["time_ids"]
    sdxl_features = {}
    for kind in ("style", "character"):
        encoder = CLIPVisionModelWithProjection.from_pretrained(
            sdxl_models / "ip-adapters" / "sd-xl" / kind / "image_encoder").float().eval()
        with torch.no_grad():
            result = encoder(pixels, output_hidden_states=True)
        sdxl_features[kind] = result.image_embeds if kind == "style" else result.hidden_states[-2]
    for name, (kinds, scales) in runs.items():
        embeds = [sdxl_features[k].flip(0) if i == 1 else sdxl_features[k] for i, k in enumerate(kinds)]
        out[f"sdxl.{name}.prediction"] = with_adapters(sdxl_models, "tiny-sdxl", "sd-xl", kinds, scales, embeds,
                                                       (sample, 451.0, sdxl_context), added)
    save_file({k: v.contiguous() for k, v in out.items()}, HERE / "encoder_unet.safetensors",
              metadata={"torch": torch.__version__})
    print("encoder_unet", {k: tuple(v.shape) for k, v in out.items()})


if __name__ == "__main__":
    main()
    encoder_and_unet()
