"""Writes tiny single-file checkpoints (the A1111/civitai form) beside their diffusers folder form.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_single_file.py

For each model, tiny random diffusers components (seeded, F16-exact, stored F16) are saved twice:
- as a diffusers folder (`<name>/model_index.json`, `unet/`, `vae/`, `text_encoder/`, ...), and
- as one original-layout file, keyed as Stable Diffusion's own code names its modules:
  `model.diffusion_model.*` (the UNet, `input_blocks`/`middle_block`/`output_blocks`),
  `first_stage_model.*` (the VAE, `encoder.down.<i>.block.<j>`, conv-shaped attention weights),
  SD1.5's `cond_stage_model.transformer.text_model.*`, SDXL's `conditioner.embedders.0.transformer.*`
  (CLIP-L) and `conditioner.embedders.1.model.*` (OpenCLIP: `resblocks`, `in_proj_weight` = q, k and v
  stacked, `text_projection` transposed), and a ControlNet's `control_model.*`.

The original layout is built here key by key with the tables of diffusers'
scripts/convert_diffusers_to_original_stable_diffusion.py (generalised to any number of levels and
layers); then diffusers' own loaders (single_file_utils.convert_ldm_unet_checkpoint,
convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint, convert_open_clip_checkpoint,
convert_controlnet_checkpoint) must turn each file back into exactly the folder's tensors, and so
must `from_single_file(config=<folder>)` for the UNets, VAEs and the ControlNet: the fixtures are what
diffusers reads.

Files: sd15/ + sd15.safetensors, sdxl/ + sdxl.safetensors, controlnet/ + control_sd15.pth (pickled by
torch.save, as lllyasviel's ControlNet 1.1 files are; its conditioning embedding has the four levels
diffusers' conversion expects, `input_hint_block.0` ... `.14`).
"""
import json
import os
import shutil

import torch
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel
from diffusers.loaders import single_file_utils as sfu
from safetensors.torch import load_file, save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

HERE = os.path.dirname(os.path.abspath(__file__))


def f16_exact(module, seed):
    """Random values for every parameter (zero-initialised ones included), rounded to F16."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_((torch.randn(p.shape, generator=g) * 0.1).half().float())
    return module.eval()


def unet(seed, xl):
    torch.manual_seed(seed)
    if xl:
        model = UNet2DConditionModel(
            sample_size=8, block_out_channels=(8, 16), layers_per_block=1,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            transformer_layers_per_block=(1, 2), attention_head_dim=(2, 4), use_linear_projection=True,
            addition_embed_type="text_time", addition_time_embed_dim=4, projection_class_embeddings_input_dim=8 + 6 * 4,
            cross_attention_dim=16, norm_num_groups=4)
    else:
        model = UNet2DConditionModel(
            sample_size=8, block_out_channels=(8, 16), layers_per_block=1,
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=8, attention_head_dim=(2, 4), norm_num_groups=4)
    return f16_exact(model, seed)


def vae(seed, scaling_factor):
    torch.manual_seed(seed)
    model = AutoencoderKL(block_out_channels=(4, 8), down_block_types=("DownEncoderBlock2D",) * 2,
                          up_block_types=("UpDecoderBlock2D",) * 2, layers_per_block=1, norm_num_groups=2,
                          latent_channels=4, sample_size=16, scaling_factor=scaling_factor)
    return f16_exact(model, seed)


def text_encoder(seed, projection, hidden_act):
    torch.manual_seed(seed)
    config = CLIPTextConfig(vocab_size=1000, hidden_size=8, intermediate_size=12, num_hidden_layers=2,
                            num_attention_heads=2, max_position_embeddings=77, hidden_act=hidden_act, projection_dim=8,
                            bos_token_id=0, eos_token_id=2, pad_token_id=1)
    model = (CLIPTextModelWithProjection if projection else CLIPTextModel)(config)
    return f16_exact(model, seed)


# ---------------------------------------------------------------------------------------------
# diffusers names -> original names (the tables of convert_diffusers_to_original_stable_diffusion.py)

RESNET = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"), ("conv2", "out_layers.3"),
          ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection")]
UNET_LAYERS = [("time_embedding.linear_1.", "time_embed.0."), ("time_embedding.linear_2.", "time_embed.2."),
               ("add_embedding.linear_1.", "label_emb.0.0."), ("add_embedding.linear_2.", "label_emb.0.2."),
               ("conv_in.", "input_blocks.0.0."), ("conv_norm_out.", "out.0."), ("conv_out.", "out.2.")]


def unet_prefixes(config, controlnet=False):
    """(diffusers prefix, original prefix) pairs for the UNet (or ControlNet) blocks."""
    levels, per = len(config["block_out_channels"]), config["layers_per_block"]
    pairs = []
    for i in range(levels):
        for j in range(per):
            pairs.append((f"down_blocks.{i}.resnets.{j}.", f"input_blocks.{(per + 1) * i + j + 1}.0."))
            pairs.append((f"down_blocks.{i}.attentions.{j}.", f"input_blocks.{(per + 1) * i + j + 1}.1."))
        if i < levels - 1:
            pairs.append((f"down_blocks.{i}.downsamplers.0.conv.", f"input_blocks.{(per + 1) * (i + 1)}.0.op."))
        if controlnet:
            continue
        has_attention = config["up_block_types"][i].startswith("CrossAttn")
        for j in range(per + 1):
            pairs.append((f"up_blocks.{i}.resnets.{j}.", f"output_blocks.{(per + 1) * i + j}.0."))
            pairs.append((f"up_blocks.{i}.attentions.{j}.", f"output_blocks.{(per + 1) * i + j}.1."))
        if i < levels - 1:
            pairs.append((f"up_blocks.{i}.upsamplers.0.", f"output_blocks.{(per + 1) * i + per}.{2 if has_attention else 1}."))
    pairs += [("mid_block.attentions.0.", "middle_block.1."), ("mid_block.resnets.0.", "middle_block.0."),
              ("mid_block.resnets.1.", "middle_block.2.")]
    return pairs


def to_original_unet(state, config, controlnet=False):
    out = {}
    prefixes = unet_prefixes(config, controlnet)
    for key, tensor in state.items():
        new = None
        for hf, sd in UNET_LAYERS:
            if key.startswith(hf):
                new = sd + key[len(hf):]
        for hf, sd in prefixes:
            if key.startswith(hf):
                rest = key[len(hf):]
                if ".resnets." in hf:
                    for name_hf, name_sd in RESNET:
                        if rest.startswith(name_hf + "."):
                            rest = name_sd + rest[len(name_hf):]
                new = sd + rest
        if controlnet:
            conditioning = [k for k in state if k.startswith("controlnet_cond_embedding.blocks.") and k.endswith(".weight")]
            last = 2 * (len(conditioning) + 1)
            if key.startswith("controlnet_cond_embedding.conv_in."):
                new = "input_hint_block.0." + key.split(".")[-1]
            elif key.startswith("controlnet_cond_embedding.conv_out."):
                new = f"input_hint_block.{last}." + key.split(".")[-1]
            elif key.startswith("controlnet_cond_embedding.blocks."):
                index = int(key.split(".")[2])
                new = f"input_hint_block.{2 * (index + 1)}." + key.split(".")[-1]
            elif key.startswith("controlnet_down_blocks."):
                new = f"zero_convs.{key.split('.')[1]}.0." + key.split(".")[-1]
            elif key.startswith("controlnet_mid_block."):
                new = "middle_block_out.0." + key.split(".")[-1]
        assert new is not None, key
        out[new] = tensor
    return out


def to_original_vae(state, config):
    levels, per = len(config["block_out_channels"]), config["layers_per_block"]
    pairs = [("encoder.conv_norm_out.", "encoder.norm_out."), ("decoder.conv_norm_out.", "decoder.norm_out.")]
    for i in range(levels):
        for j in range(per):
            pairs.append((f"encoder.down_blocks.{i}.resnets.{j}.", f"encoder.down.{i}.block.{j}."))
        for j in range(per + 1):
            pairs.append((f"decoder.up_blocks.{i}.resnets.{j}.", f"decoder.up.{levels - 1 - i}.block.{j}."))
        if i < levels - 1:
            pairs.append((f"encoder.down_blocks.{i}.downsamplers.0.", f"encoder.down.{i}.downsample."))
            pairs.append((f"decoder.up_blocks.{i}.upsamplers.0.", f"decoder.up.{levels - 1 - i}.upsample."))
    for part in ("encoder", "decoder"):
        for j in range(2):
            pairs.append((f"{part}.mid_block.resnets.{j}.", f"{part}.mid.block_{j + 1}."))
        for hf, sd in [("group_norm.", "norm."), ("to_q.", "q."), ("to_k.", "k."), ("to_v.", "v."), ("to_out.0.", "proj_out.")]:
            pairs.append((f"{part}.mid_block.attentions.0.{hf}", f"{part}.mid.attn_1.{sd}"))
    out = {}
    for key, tensor in state.items():
        new = key
        for hf, sd in pairs:
            if key.startswith(hf):
                new = sd + key[len(hf):].replace("conv_shortcut", "nin_shortcut")
        if ".mid.attn_1." in new and new.endswith("weight") and tensor.ndim == 2:
            tensor = tensor[:, :, None, None]  # the original attention is 1x1 convolutions
        out[new] = tensor
    return out


def to_open_clip(state):
    out = {}
    layers = sorted({int(k.split(".")[3]) for k in state if k.startswith("text_model.encoder.layers.")})
    for i in layers:
        hf, sd = f"text_model.encoder.layers.{i}.", f"transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            out[sd + f"attn.in_proj_{kind}"] = torch.cat([state[hf + f"self_attn.{p}_proj.{kind}"] for p in "qkv"])
            for a, b in [("self_attn.out_proj", "attn.out_proj"), ("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"),
                         ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj")]:
                out[sd + f"{b}.{kind}"] = state[hf + f"{a}.{kind}"]
    out["token_embedding.weight"] = state["text_model.embeddings.token_embedding.weight"]
    out["positional_embedding"] = state["text_model.embeddings.position_embedding.weight"]
    out["ln_final.weight"] = state["text_model.final_layer_norm.weight"]
    out["ln_final.bias"] = state["text_model.final_layer_norm.bias"]
    out["text_projection"] = state["text_projection.weight"].t().contiguous()
    out["logit_scale"] = torch.tensor(4.6052)  # OpenCLIP's, unused by diffusers
    return out


def prefixed(prefix, state):
    return {prefix + k: v for k, v in state.items()}


def half(state):
    return {k: v.detach().half().contiguous() for k, v in state.items()}


def clip_state(model):
    """transformers' state dict under the text_model.* names of the original files."""
    return {k if k.startswith(("text_model.", "text_projection")) else "text_model." + k: v
            for k, v in model.state_dict().items()}


def check_equal(converted, expected, what):
    assert set(converted) == set(expected), (what, set(converted) ^ set(expected))
    for key in expected:
        assert torch.equal(converted[key].float(), expected[key].float()), (what, key)


# ---------------------------------------------------------------------------------------------


def save_folder(folder, components, class_name):
    shutil.rmtree(folder, ignore_errors=True)
    index = {"_class_name": class_name, "_diffusers_version": "0.42.1"}
    for name, model in components.items():
        model.to(torch.float16).save_pretrained(os.path.join(folder, name), safe_serialization=True)
        model.to(torch.float32)
        library = "diffusers" if name in ("unet", "vae") else "transformers"
        index[name] = [library, type(model).__name__]
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump(index, f, indent=2)


def build(name, xl):
    unet_model, vae_model = unet(1, xl), vae(2, 0.13025 if xl else 0.18215)
    text = text_encoder(3, projection=False, hidden_act="quick_gelu")
    components = {"unet": unet_model, "vae": vae_model, "text_encoder": text}
    ldm = prefixed("model.diffusion_model.", to_original_unet(unet_model.state_dict(), unet_model.config))
    ldm.update(prefixed("first_stage_model.", to_original_vae(vae_model.state_dict(), vae_model.config)))
    if xl:
        text_2 = text_encoder(4, projection=True, hidden_act="gelu")
        components["text_encoder_2"] = text_2
        ldm.update(prefixed("conditioner.embedders.0.transformer.", clip_state(text)))
        ldm.update(prefixed("conditioner.embedders.1.model.", to_open_clip(clip_state(text_2))))
    else:
        ldm.update(prefixed("cond_stage_model.transformer.", clip_state(text)))
    ldm = half(ldm)
    save_folder(os.path.join(HERE, name), components, "StableDiffusionXLPipeline" if xl else "StableDiffusionPipeline")
    save_file(ldm, os.path.join(HERE, f"{name}.safetensors"))

    # diffusers' own single-file conversion must give back the folder's tensors exactly.
    checkpoint = load_file(os.path.join(HERE, f"{name}.safetensors"))
    check_equal(sfu.convert_ldm_unet_checkpoint(checkpoint, dict(unet_model.config)), half(unet_model.state_dict()), "unet")
    check_equal(sfu.convert_ldm_vae_checkpoint(checkpoint, dict(vae_model.config)), half(vae_model.state_dict()), "vae")
    clip = sfu.convert_ldm_clip_checkpoint(checkpoint)
    clip.pop("text_model.embeddings.position_ids", None)
    check_equal(clip, half(clip_state(text)), "text_encoder")
    if xl:
        open_clip = sfu.convert_open_clip_checkpoint(text_2, checkpoint, prefix="conditioner.embedders.1.model.")
        check_equal(open_clip, half(clip_state(text_2)), "text_encoder_2")
    return ldm


def build_controlnet():
    base = unet(1, xl=False)
    torch.manual_seed(5)
    model = f16_exact(ControlNetModel.from_unet(base, conditioning_embedding_out_channels=(4, 4, 4, 8)), 5)
    shutil.rmtree(os.path.join(HERE, "controlnet"), ignore_errors=True)
    model.to(torch.float16).save_pretrained(os.path.join(HERE, "controlnet"), safe_serialization=True)
    model.to(torch.float32)
    ldm = half(prefixed("control_model.", to_original_unet(model.state_dict(), model.config, controlnet=True)))
    # Pickled, as lllyasviel's control_v11p_sd15_*.pth files are.
    torch.save(ldm, os.path.join(HERE, "control_sd15.pth"))
    checkpoint = torch.load(os.path.join(HERE, "control_sd15.pth"), weights_only=True)
    converted = sfu.convert_controlnet_checkpoint(checkpoint, dict(model.config))
    check_equal(converted, half(model.state_dict()), "controlnet")


def check_from_single_file():
    """diffusers' public loader, `from_single_file(config=<folder>)`, reads the files into the folder's tensors."""
    cases = [(UNet2DConditionModel, f"{name}.safetensors", name, "unet") for name in ("sd15", "sdxl")]
    cases += [(AutoencoderKL, f"{name}.safetensors", name, "vae") for name in ("sd15", "sdxl")]
    cases += [(ControlNetModel, "control_sd15.pth", "controlnet", None)]
    for cls, file, config, subfolder in cases:
        kwargs = {"subfolder": subfolder} if subfolder else {}
        model = cls.from_single_file(os.path.join(HERE, file), config=os.path.join(HERE, config), local_files_only=True, **kwargs)
        folder = os.path.join(HERE, config, subfolder or "")
        check_equal(half(model.state_dict()), load_file(os.path.join(folder, "diffusion_pytorch_model.safetensors")), file)


def main():
    build("sd15", xl=False)
    build("sdxl", xl=True)
    build_controlnet()
    check_from_single_file()


if __name__ == "__main__":
    main()
