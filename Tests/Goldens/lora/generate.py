"""Writes the LoRA golden fixtures: tiny LoRA files in each format and the weights they merge into.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt, plus peft):
    /work/venv/bin/python Tests/Goldens/lora/generate.py

Base models: Tests/Fixtures/Weights/tiny-sd15 and Tests/Goldens/pipeline/models/tiny-sdxl (F16, run widened to float32).

Writes, under Tests/Goldens/lora/:
- kohya.safetensors (lora_unet_* / lora_te_*, lora_down/lora_up/alpha, rank 4, alpha 2: attention, the
  1x1-conv proj_in/proj_out, feed-forward, a 3x3 resnet conv, a text-encoder q_proj and fc1) and
  peft.safetensors (unet.* / text_encoder.* lora_A/lora_B, rank 2, no alpha: scale 1), both on tiny-sd15.
  merged.safetensors: what diffusers' load_lora_weights + set_adapters(["kohya", "peft"],
  adapter_weights=[0.8, -0.5]) + fuse_lora leave in those layers ("unet.<key>", "text_encoder.<key>"),
  the fused UNet's output on a fixed input ("unet_output") and the fused text encoder's last hidden
  state ("text_encoder_output").
- legacy.safetensors: the older diffusers keys (attn1.processor.to_q_lora.down.weight, ...lora.down/up
  with .alpha), loha.safetensors and lokr.safetensors (LyCORIS: hada_w1_a..., lokr_w1, lokr_w2_a/b,
  a full-rank lokr_w2 on a conv); merged_formulas.safetensors: their merged weights at scale 0.7 from
  the formulas of docs (numpy, float64 rounded to float32).
- lcm_shaped.safetensors: a kohya file changing every layer kind LCM-LoRA changes (attention, proj,
  feed-forward, resnet convs and time_emb_proj, down/upsamplers) on tiny-sd15, and
  lcm_shaped_output.safetensors: diffusers' fused UNet output on merged.safetensors' input.
- sdxl_kohya.safetensors: a kohya SDXL LoRA in sgm block names (input_blocks_4_1_..., middle_block_*,
  output_blocks_*, resnets' in_layers_2/emb_layers_1/skip_connection, op, conv_in/out, time_embed,
  label_emb, lora_te1_/lora_te2_) on tiny-sdxl; sdxl_merged.safetensors: diffusers' fused weights and
  the fused pipeline's encode_prompt("a red house by a lake", negative "blurry").
"""
import json
import os

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..", "..")
SD15 = os.path.join(ROOT, "Tests", "Fixtures", "Weights", "tiny-sd15")
SDXL = os.path.join(ROOT, "Tests", "Goldens", "pipeline", "models", "tiny-sdxl")
SCALES = {"kohya": 0.8, "peft": -0.5}
FORMULA_SCALE = 0.7

rng = np.random.default_rng(17)


def rand(*shape, scale=0.1):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def base_weights(folder, component):
    from safetensors.numpy import load_file
    name = "diffusion_pytorch_model.safetensors" if component.startswith("unet") else "model.safetensors"
    weights = {k: v.astype(np.float32) for k, v in load_file(os.path.join(folder, component, name)).items()}
    if component == "text_encoder":  # transformers 5 saves a CLIPTextModel without its text_model. prefix
        weights = {k if k.startswith("text_model.") else "text_model." + k: v for k, v in weights.items()}
    return weights


# Modules of tiny-sd15 (diffusers names) and their weight shapes.
SD15_UNET = [
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0",
    "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k",
    "down_blocks.0.attentions.0.proj_in",
    "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj",
    "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.2",
    "down_blocks.0.resnets.0.conv1",
    "mid_block.attentions.0.proj_out",
]
# With an attention out_proj among them: diffusers 0.42 recognises a kohya text-encoder LoRA by that key
# ("Could not automatically infer state dict type" without it).
SD15_TE = ["text_model.encoder.layers.0.self_attn.q_proj", "text_model.encoder.layers.1.self_attn.out_proj",
           "text_model.encoder.layers.1.mlp.fc1"]
PEFT_UNET = [
    "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
    "up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v",
    "up_blocks.1.attentions.1.proj_in",
]
PEFT_TE = ["text_model.encoder.layers.0.self_attn.q_proj", "text_model.encoder.layers.2.self_attn.out_proj"]


def low_rank(shape, rank):
    """kohya's shapes: down [r, in, k, k] (or [r, in]), up [out, r, 1, 1] (or [out, r])."""
    if len(shape) == 4:
        return rand(rank, shape[1], shape[2], shape[3]), rand(shape[0], rank, 1, 1)
    return rand(rank, shape[1]), rand(shape[0], rank)


def kohya_name(prefix, module):
    return prefix + module.replace(".", "_")


def write_sd15_loras():
    unet, te = base_weights(SD15, "unet"), base_weights(SD15, "text_encoder")
    kohya = {}
    for prefix, modules, weights in (("lora_unet_", SD15_UNET, unet), ("lora_te_", SD15_TE, te)):
        for module in modules:
            down, up = low_rank(weights[module + ".weight"].shape, 4)
            name = kohya_name(prefix, module)
            kohya[f"{name}.lora_down.weight"], kohya[f"{name}.lora_up.weight"] = down, up
            kohya[f"{name}.alpha"] = np.array(2.0, dtype=np.float32)
    save_numpy(kohya, os.path.join(HERE, "kohya.safetensors"))

    peft = {}
    for component, modules, weights in (("unet", PEFT_UNET, unet), ("text_encoder", PEFT_TE, te)):
        for module in modules:
            down, up = low_rank(weights[module + ".weight"].shape, 2)
            peft[f"{component}.{module}.lora_A.weight"], peft[f"{component}.{module}.lora_B.weight"] = down, up
    save_numpy(peft, os.path.join(HERE, "peft.safetensors"))


def write_sd15_merged():
    from diffusers import StableDiffusionPipeline

    pipe = StableDiffusionPipeline.from_pretrained(SD15, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    for name in SCALES:
        pipe.load_lora_weights(HERE, weight_name=f"{name}.safetensors", adapter_name=name)
    pipe.set_adapters(list(SCALES), adapter_weights=list(SCALES.values()))
    pipe.fuse_lora(components=["unet", "text_encoder"], lora_scale=1.0)
    pipe.unload_lora_weights()  # drops the (now fused) adapters, keeping the merged weights
    out = {}
    unet, te = pipe.unet.state_dict(), pipe.text_encoder.state_dict()
    for module in sorted(set(SD15_UNET + PEFT_UNET)):
        out[f"unet.{module}.weight"] = unet[f"{module}.weight"]
    for module in sorted(set(SD15_TE + PEFT_TE)):
        out[f"text_encoder.{module}.weight"] = te[module.removeprefix("text_model.") + ".weight"]
    generator = torch.Generator().manual_seed(5)
    sample = torch.randn(1, 4, 8, 8, generator=generator)
    hidden = torch.randn(1, 7, 32, generator=generator)
    # "a photo of an" in tiny-sd15's tokenizer (CLIP's cut after 2000 merges: start 2512, end and pad 2513).
    ids = torch.tensor([[2512, 320, 1125, 539, 550, 2513] + [2513] * 71])
    with torch.no_grad():
        out["unet_output"] = pipe.unet(sample, 500, encoder_hidden_states=hidden).sample.permute(0, 2, 3, 1)
        out["text_encoder_output"] = pipe.text_encoder(ids).last_hidden_state
    out["unet_sample"], out["unet_hidden"] = sample.permute(0, 2, 3, 1), hidden
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(HERE, "merged.safetensors"))
    return out


def check_against_formula(out):
    """Every fused weight equals base + sum(adapter_weight * alpha / rank * up @ down): diffusers and the
    formula the Swift side uses agree before anything is committed."""
    from safetensors.numpy import load_file
    bases = {"unet": base_weights(SD15, "unet"), "text_encoder": base_weights(SD15, "text_encoder")}
    kohya, peft = load_file(os.path.join(HERE, "kohya.safetensors")), load_file(os.path.join(HERE, "peft.safetensors"))
    for key in (k for k in out if k.endswith(".weight")):
        component, module = key.split(".", 1)[0], key.split(".", 1)[1].removesuffix(".weight")
        expected = bases[component][f"{module}.weight"].astype(np.float64)
        name = kohya_name("lora_unet_" if component == "unet" else "lora_te_", module)
        if f"{name}.lora_down.weight" in kohya:
            expected = merged_low_rank(expected, kohya[f"{name}.lora_up.weight"], kohya[f"{name}.lora_down.weight"],
                                       2.0, SCALES["kohya"])
        if f"{component}.{module}.lora_A.weight" in peft:
            expected = merged_low_rank(expected, peft[f"{component}.{module}.lora_B.weight"],
                                       peft[f"{component}.{module}.lora_A.weight"], 2.0, SCALES["peft"])
        error = np.abs(out[key].numpy() - expected).max()
        assert error < 1e-5, (key, error)


# ---------------------------------------------------------------------------------------------
# Formats diffusers does not load: numpy formulas (LyCORIS' and diffusers' older layouts)

def merged_low_rank(base, up, down, alpha, scale):
    rank = down.shape[0]
    delta = up.reshape(up.shape[0], -1).astype(np.float64) @ down.reshape(rank, -1).astype(np.float64)
    return base + scale * alpha / rank * delta.reshape(base.shape)


def write_formula_cases():
    unet, te = base_weights(SD15, "unet"), base_weights(SD15, "text_encoder")
    expected = {}

    legacy = {}
    attn = "down_blocks.0.attentions.1.transformer_blocks.0"
    for proj, target in (("to_q", "attn1.to_q"), ("to_out", "attn2.to_out.0")):
        down, up = low_rank(unet[f"{attn}.{target}.weight"].shape, 3)
        processor = target.split(".")[0] + ".processor." + proj + "_lora"
        legacy[f"{attn}.{processor}.down.weight"], legacy[f"{attn}.{processor}.up.weight"] = down, up
        expected[f"legacy.unet.{attn}.{target}.weight"] = merged_low_rank(
            unet[f"{attn}.{target}.weight"], up, down, 3, FORMULA_SCALE)
    module = "mid_block.resnets.1.conv2"
    down, up = low_rank(unet[f"{module}.weight"].shape, 2)
    legacy[f"unet.{module}.lora.down.weight"], legacy[f"unet.{module}.lora.up.weight"] = down, up
    legacy[f"unet.{module}.alpha"] = np.array(1.0, dtype=np.float32)
    expected[f"legacy.unet.{module}.weight"] = merged_low_rank(unet[f"{module}.weight"], up, down, 1.0, FORMULA_SCALE)
    module = "text_model.encoder.layers.3.mlp.fc2"
    down, up = low_rank(te[f"{module}.weight"].shape, 2)
    legacy[f"text_encoder.{module}.lora_linear_layer.down.weight"] = down
    legacy[f"text_encoder.{module}.lora_linear_layer.up.weight"] = up
    expected[f"legacy.text_encoder.{module}.weight"] = merged_low_rank(te[f"{module}.weight"], up, down, 2, FORMULA_SCALE)
    save_numpy(legacy, os.path.join(HERE, "legacy.safetensors"))

    # LoHa: delta = (w1_a @ w1_b) * (w2_a @ w2_b) * alpha / rank, reshaped to the weight.
    loha = {}
    for module, rank, alpha in (("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_v", 4, 3.0),
                                ("down_blocks.1.resnets.0.conv1", 2, 1.0)):
        shape = unet[f"{module}.weight"].shape
        columns = int(np.prod(shape[1:]))
        name = kohya_name("lora_unet_", module)
        parts = {p: rand(*s, scale=0.3) for p, s in (("hada_w1_a", (shape[0], rank)), ("hada_w1_b", (rank, columns)),
                                                     ("hada_w2_a", (shape[0], rank)), ("hada_w2_b", (rank, columns)))}
        for p, value in parts.items():
            loha[f"{name}.{p}"] = value
        loha[f"{name}.alpha"] = np.array(alpha, dtype=np.float32)
        w1 = parts["hada_w1_a"].astype(np.float64) @ parts["hada_w1_b"]
        w2 = parts["hada_w2_a"].astype(np.float64) @ parts["hada_w2_b"]
        expected[f"loha.unet.{module}.weight"] = unet[f"{module}.weight"] + FORMULA_SCALE * alpha / rank * (w1 * w2).reshape(shape)
    save_numpy(loha, os.path.join(HERE, "loha.safetensors"))

    # LoKr: delta = kron(w1, w2) * scale, w1/w2 full or the product of their _a/_b factors; with a
    # low-rank factor the scale is alpha / rank (rank: the factors' inner size), with both full it is 1.
    lokr = {}
    module = "down_blocks.0.attentions.0.transformer_blocks.0.ff.net.0.proj"  # [256, 32] = kron([8, 4], [32, 8])
    name = kohya_name("lora_unet_", module)
    w1, w2a, w2b = rand(8, 4, scale=0.5), rand(32, 2, scale=0.5), rand(2, 8, scale=0.5)
    lokr[f"{name}.lokr_w1"], lokr[f"{name}.lokr_w2_a"], lokr[f"{name}.lokr_w2_b"] = w1, w2a, w2b
    lokr[f"{name}.alpha"] = np.array(4.0, dtype=np.float32)
    delta = np.kron(w1.astype(np.float64), w2a.astype(np.float64) @ w2b)
    expected[f"lokr.unet.{module}.weight"] = unet[f"{module}.weight"] + FORMULA_SCALE * 4.0 / 2 * delta
    module = "down_blocks.0.resnets.1.conv2"  # [32, 32, 3, 3] = kron([4, 2], [8, 16, 3, 3])
    name = kohya_name("lora_unet_", module)
    w1a, w1b, w2 = rand(4, 1, scale=0.5), rand(1, 2, scale=0.5), rand(8, 16, 3, 3, scale=0.5)
    lokr[f"{name}.lokr_w1_a"], lokr[f"{name}.lokr_w1_b"], lokr[f"{name}.lokr_w2"] = w1a, w1b, w2
    w1 = w1a.astype(np.float64) @ w1b
    delta = np.kron(w1[:, :, None, None], w2.astype(np.float64))
    expected[f"lokr.unet.{module}.weight"] = unet[f"{module}.weight"] + FORMULA_SCALE * 1.0 * delta  # no alpha: alpha = rank
    module = "text_model.encoder.layers.4.self_attn.v_proj"  # [32, 32] = kron([4, 4], [8, 8]), both full: scale 1
    name = kohya_name("lora_te_", module)
    w1, w2 = rand(4, 4, scale=0.5), rand(8, 8, scale=0.5)
    lokr[f"{name}.lokr_w1"], lokr[f"{name}.lokr_w2"] = w1, w2
    lokr[f"{name}.alpha"] = np.array(16.0, dtype=np.float32)
    expected[f"lokr.text_encoder.{module}.weight"] = te[f"{module}.weight"] + FORMULA_SCALE * np.kron(
        w1.astype(np.float64), w2.astype(np.float64))
    save_numpy(lokr, os.path.join(HERE, "lokr.safetensors"))

    save_numpy({k: v.astype(np.float32) for k, v in expected.items()}, os.path.join(HERE, "merged_formulas.safetensors"))


# ---------------------------------------------------------------------------------------------
# SDXL: kohya's sgm block names

SDXL_SGM = {  # sgm module -> the diffusers module it names in tiny-sdxl (layers_per_block 2)
    "input_blocks_0_0": "conv_in",
    "time_embed_0": "time_embedding.linear_1",
    "label_emb_0_2": "add_embedding.linear_2",
    "input_blocks_1_0_in_layers_2": "down_blocks.0.resnets.0.conv1",
    "input_blocks_2_0_emb_layers_1": "down_blocks.0.resnets.1.time_emb_proj",
    "input_blocks_3_0_op": "down_blocks.0.downsamplers.0.conv",
    "input_blocks_4_0_skip_connection": "down_blocks.1.resnets.0.conv_shortcut",
    "input_blocks_4_1_proj_in": "down_blocks.1.attentions.0.proj_in",
    "input_blocks_5_1_transformer_blocks_1_attn2_to_k": "down_blocks.1.attentions.1.transformer_blocks.1.attn2.to_k",
    "middle_block_0_out_layers_3": "mid_block.resnets.0.conv2",
    "middle_block_1_transformer_blocks_0_ff_net_2": "mid_block.attentions.0.transformer_blocks.0.ff.net.2",
    "middle_block_2_in_layers_2": "mid_block.resnets.1.conv1",
    "output_blocks_0_1_transformer_blocks_0_attn1_to_out_0": "up_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0",
    "output_blocks_2_1_proj_out": "up_blocks.0.attentions.2.proj_out",
    "output_blocks_2_2_conv": "up_blocks.0.upsamplers.0.conv",
    "output_blocks_5_0_skip_connection": "up_blocks.1.resnets.2.conv_shortcut",
    "out_2": "conv_out",
}
# out_proj: diffusers 0.42 recognises a kohya text-encoder LoRA by its attention output keys (see SD15_TE).
SDXL_TE = {"lora_te1_text_model_encoder_layers_0_self_attn_out_proj": ("text_encoder", "text_model.encoder.layers.0.self_attn.out_proj"),
           "lora_te2_text_model_encoder_layers_1_self_attn_out_proj": ("text_encoder_2", "text_model.encoder.layers.1.self_attn.out_proj")}


def write_sdxl():
    from diffusers import StableDiffusionXLPipeline

    weights = {c: base_weights(SDXL, c) for c in ("unet", "text_encoder", "text_encoder_2")}
    lora, targets = {}, {}
    for sgm, module in SDXL_SGM.items():
        targets[f"lora_unet_{sgm}"] = ("unet", module)
    targets.update(SDXL_TE)
    for name, (component, module) in targets.items():
        down, up = low_rank(weights[component][f"{module}.weight"].shape, 2)
        lora[f"{name}.lora_down.weight"], lora[f"{name}.lora_up.weight"] = down, up
        lora[f"{name}.alpha"] = np.array(1.0, dtype=np.float32)
    save_numpy(lora, os.path.join(HERE, "sdxl_kohya.safetensors"))

    pipe = StableDiffusionXLPipeline.from_pretrained(SDXL, torch_dtype=torch.float32)
    pipe.load_lora_weights(HERE, weight_name="sdxl_kohya.safetensors", adapter_name="sgm")
    pipe.set_adapters(["sgm"], adapter_weights=[1.5])
    pipe.fuse_lora(components=["unet", "text_encoder", "text_encoder_2"], lora_scale=1.0)
    pipe.unload_lora_weights()
    out = {}
    with torch.no_grad():  # the fused text encoders through SDXL's encode_prompt
        embeds = pipe.encode_prompt("a red house by a lake", device="cpu", num_images_per_prompt=1,
                                    do_classifier_free_guidance=True, negative_prompt="blurry")
    for role, tensor in zip(["prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                             "negative_pooled_prompt_embeds"], embeds):
        out[f"encode_prompt.{role}"] = tensor
    for name, (component, module) in targets.items():
        state = getattr(pipe, component).state_dict()
        out[f"{component}.{module}.weight"] = state.get(f"{module}.weight", state.get(module.removeprefix("text_model.") + ".weight"))
        base = weights[component][f"{module}.weight"]
        formula = merged_low_rank(base, lora[f"{name}.lora_up.weight"], lora[f"{name}.lora_down.weight"], 1.0, 1.5)
        error = np.abs(out[f"{component}.{module}.weight"].numpy() - formula).max()
        assert error < 1e-5, (name, error)  # diffusers mapped the sgm name where the table says
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(HERE, "sdxl_merged.safetensors"))
    with open(os.path.join(HERE, "sdxl_names.json"), "w") as f:
        json.dump({name: f"{component}.{module}" for name, (component, module) in targets.items()}, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# An LCM-LoRA-shaped file: kohya keys on every layer kind latent-consistency/lcm-lora-sdv1-5 changes

LCM_LAYERS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2", "conv1",
              "conv2", "conv_shortcut", "downsamplers.0.conv", "upsamplers.0.conv", "time_emb_proj")


def write_lcm_shaped():
    unet = base_weights(SD15, "unet")
    lora = {}
    for key in sorted(unet):
        module = key.removesuffix(".weight")
        if key.endswith(".weight") and module.endswith(LCM_LAYERS) and unet[key].ndim in (2, 4):
            down, up = low_rank(unet[key].shape, 2)
            lora[f"{kohya_name('lora_unet_', module)}.lora_down.weight"] = down
            lora[f"{kohya_name('lora_unet_', module)}.lora_up.weight"] = up
            lora[f"{kohya_name('lora_unet_', module)}.alpha"] = np.array(8.0, dtype=np.float32)
    save_numpy(lora, os.path.join(HERE, "lcm_shaped.safetensors"))

    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(SD15, torch_dtype=torch.float32, safety_checker=None,
                                                   requires_safety_checker=False)
    pipe.load_lora_weights(HERE, weight_name="lcm_shaped.safetensors", adapter_name="lcm")
    pipe.fuse_lora(components=["unet"], lora_scale=1.0)
    from safetensors.torch import load_file
    inputs = load_file(os.path.join(HERE, "merged.safetensors"))
    with torch.no_grad():
        output = pipe.unet(inputs["unet_sample"].permute(0, 3, 1, 2), 500,
                           encoder_hidden_states=inputs["unet_hidden"]).sample.permute(0, 2, 3, 1)
    save_file({"unet_output": output.contiguous(), "module_count": torch.tensor([len(lora) // 3], dtype=torch.float32)},
              os.path.join(HERE, "lcm_shaped_output.safetensors"))


def main():
    write_sd15_loras()
    check_against_formula(write_sd15_merged())
    write_formula_cases()
    write_sdxl()
    write_lcm_shaped()


if __name__ == "__main__":
    main()
