"""Writes the CLIP tokenizer and text-encoder golden fixtures.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/clip/generate.py

Writes, under Tests/Goldens/clip/:
- tokenizer/: the real CLIP vocab.json + merges.txt (links to the runtime's built-in copy in
  Sources/DiffusionPipeline/Resources/SingleFile/tokenizer) with the plain SD1.5 config (pad
  <|endoftext|>); tokenizer_2/: SDXL's hub layout (AddedToken objects, pad "!");
  tokenizer_hub/: the same layout with pad <|endoftext|> (SD1.5's and SDXL's first tokenizer on the hub);
  tokenizer_v4/: the layout transformers 4.x saved (added_tokens_decoder). The last three link their
  vocab.json and merges.txt to tokenizer/ so the 1.5 MB files are stored once.
- tokens.json: transformers' ids for every corpus prompt with every tokenizer folder, padded to 77
  and truncated as diffusers asks, and untruncated without padding.
- tiny/: a pipeline folder of tiny random text encoders and their tokenizers, CLIP's cut after 2000
  merges (Tests/Goldens/tiny_tokenizer.py: 2,514 ids, so the embeddings are 2,514 rows, not 49,408):
  tiny/tokenizer/ (plain SD1.5 config) and tiny/tokenizer_2/ (SDXL's hub layout, pad "!");
  tiny/text_encoder/: a CLIPTextModel (quick_gelu, legacy eos_token_id 2) saved as the SD1.5 hub
  files are, `text_model.*` keys plus the `position_ids` buffer; tiny/text_encoder_2/: a
  CLIPTextModelWithProjection (gelu, eos_token_id 2513, the cut vocabulary's end token) as
  transformers saves it. Both F16.
- encoders.safetensors (+ encoders.json, the input ids and prompts): the models' outputs on those F16
  weights widened to float32, and the SD1.5 / SDXL pipelines' encode_prompt outputs.
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
TINY = os.path.join(HERE, "tiny")
sys.path.insert(0, os.path.join(HERE, ".."))
import tiny_tokenizer  # noqa: E402

# The full CLIP tokenizer, as the SD1.5 hub folder carries it (the runtime's built-in copy).
FULL = os.path.join("..", "..", "..", "..", "Sources", "DiffusionPipeline", "Resources", "SingleFile", "tokenizer")


def dump(path, payload):
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, ensure_ascii=True)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# Tokenizer folders


def added_token(content, normalized=True):
    return {"content": content, "lstrip": False, "normalized": normalized, "rstrip": False, "single_word": False}


def hub_config(pad):
    """tokenizer_config.json / special_tokens_map.json as the SD1.5 and SDXL hub folders carry them."""
    legacy = lambda content: {"__type": "AddedToken", **added_token(content)}
    config = {
        "add_prefix_space": False, "bos_token": legacy("<|startoftext|>"), "do_lower_case": True,
        "eos_token": legacy("<|endoftext|>"), "errors": "replace", "model_max_length": 77, "pad_token": pad,
        "tokenizer_class": "CLIPTokenizer", "unk_token": legacy("<|endoftext|>"),
    }
    special = {"bos_token": added_token("<|startoftext|>"), "eos_token": added_token("<|endoftext|>"),
               "pad_token": pad, "unk_token": added_token("<|endoftext|>")}
    return config, special


def v4_config():
    """tokenizer_config.json as transformers 4.3x saved SDXL's tokenizer_2 (no special_tokens_map.json)."""
    decoder = {"0": {**added_token("!", False), "special": True},
               "49406": {**added_token("<|startoftext|>"), "special": True},
               "49407": {**added_token("<|endoftext|>", False), "special": True}}
    return {
        "add_prefix_space": False, "added_tokens_decoder": decoder, "bos_token": "<|startoftext|>",
        "clean_up_tokenization_spaces": True, "do_lower_case": True, "eos_token": "<|endoftext|>",
        "errors": "replace", "model_max_length": 77, "pad_token": "!", "tokenizer_class": "CLIPTokenizer",
        "unk_token": "<|endoftext|>",
    }


def write_tokenizer_folders():
    base = os.path.join(HERE, "tokenizer")
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    for name in ["vocab.json", "merges.txt"]:
        os.symlink(os.path.join(FULL, name), os.path.join(base, name))
    for name in ["tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copyfile(os.path.join(base, FULL, name), os.path.join(base, name))
    folders = {}
    for folder, pad in [("tokenizer_2", "!"), ("tokenizer_hub", "<|endoftext|>")]:
        config, special = hub_config(pad)
        folders[folder] = {"tokenizer_config.json": config, "special_tokens_map.json": special}
    folders["tokenizer_v4"] = {"tokenizer_config.json": v4_config()}
    for folder, files in folders.items():
        path = os.path.join(HERE, folder)
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        for name in ["vocab.json", "merges.txt"]:
            os.symlink(os.path.join("..", "tokenizer", name), os.path.join(path, name))
        for name, payload in files.items():
            dump(os.path.join(path, name), payload)
    return ["tokenizer", "tokenizer_2", "tokenizer_hub", "tokenizer_v4"]


LONG = ("a breathtaking matte painting of an ancient floating city above the clouds at golden hour, "
        "intricate gothic spires, waterfalls pouring off the edges, flocks of birds, volumetric god rays, "
        "highly detailed, sharp focus, trending on artstation, by greg rutkowski and alphonse mucha, "
        "8k resolution, unreal engine 5, octane render, cinematic composition, award winning photograph")

CORPUS = [
    "a photo of an astronaut riding a horse on mars",
    "A Photo Of An ASTRONAUT Riding A Horse On Mars",
    "",
    " ",
    "\t\n  \r\n\x0b\x0c",
    "\u00a0\u3000\u2003 spaces: no-break, ideographic, em \u2028 line \u2029 paragraph \u0085 next",
    "Café déjà vu, naïve façade, crème brûlée, jalapeño",
    "e\u0301 combining acute vs \u00e9 precomposed, A\u030a vs \u212b angstrom, \u2126 ohm",
    "Ünïcödé ÀÉÎÕÜ Straße \u1e9e capital sharp s, \u01c5 titlecase \u01c4 \u01c6",
    "Ελληνικά: ΣΑΣ σας ΟΔΥΣΣΕΥΣ",
    "İstanbul DİYARBAKIR ı i I",
    "Привет, мир! Москва — столица",
    "日本語のテキスト、東京タワーと富士山",
    "中文提示词：一只可爱的猫，高清，杰作",
    "한국어 프롬프트, 아름다운 풍경",
    "مرحبا بالعالم שלום עולם",
    "नमस्ते दुनिया, सुंदर चित्र",
    "สวัสดีครับ ภาพสวย",
    "emoji 🐱🚀✨ cat rocket sparkles",
    "family 👩\u200d👩\u200d👧 flag 🇫🇷 heart ❤\ufe0f skin 👍🏽",
    "zero\u200bwidth\u200cnon\u200djoiner\ufeffbom",
    "!!!???...,,,;;;:::---___***",
    "hello!world!! and !!! alone ! end!",
    "a_b-c+d=e/f\\g|h~i`j^k@l#m$n%o&p",
    "1,000,000 3.14159 2024-01-15 12:30:45 +49 (0) 30 1234-567",
    "½ ¾ ² ³ ③ ⅫⅣ ٣٤٥ ४२ 〇 𝟙𝟚",
    "$100 €50 £30 ¥1000 ₿0.5 100% 50°C",
    "<b>bold</b> <img src=\"x.png\" alt='x'/> &amp; &lt;3 <br/>",
    "((masterpiece)), (best quality:1.2), [[low quality]], {blue|red}, <lora:style:0.8>",
    "(((((((((((((extreme emphasis)))))))))))))",
    "don't you're we've I'm they'll he'd it's",
    "DON'T YOU'RE WE'VE I'M THEY'LL HE'D IT'S",
    "'quoted' ''s '''tis rock'n'roll o'clock",
    "<|startoftext|>hello<|endoftext|>world",
    "<|ENDOFTEXT|> <|StartOfText|> <|endoftext",
    "a<|endoftext|>b <|endoftext|><|endoftext|>",
    "https://example.com/path/to?query=1&b=two#frag email@example.com",
    "C++ C# F# .NET node.js e.g. i.e. U.S.A.",
    "ﬁ ligature ﬀ, Ａ full-width ＡＢＣ１２３",
    "ℌ𝔢𝔩𝔩𝔬 𝓦𝓸𝓻𝓵𝓭 𝐁𝐨𝐥𝐝",
    "control\x00chars\x01here\x7fand\x1bescape",
    "supercalifragilisticexpialidocious pneumonoultramicroscopicsilicovolcanoconiosis",
    "a" * 300,
    "ab" * 60 + " " + "x" * 101,
    "8k uhd, dslr, soft lighting, high quality, film grain, Fujifilm XT3",
    "newer unicode: \ua7cb\ua7dc \U0001fae8 \U00010d50\U00010d70 \U000323b0 \U00010940 \U0001e6c0",
    "unassigned \U000e0080 private \ue000 noncharacter \ufdd0",
    "cat " * 74,
    "cat " * 75,
    "cat " * 76,
    "cat " * 200,
    LONG,
    LONG + " " + LONG,
    "word, " * 60 + "THE END",
    "tab\tseparated\tvalues\nand\nnew lines\r\nwindows",
    "  leading and trailing spaces  ",
    "mixed 中文 English 日本語 한국어 text 123abc456",
]


def tokenize_corpus(folders):
    tokens = {"prompts": CORPUS, "folders": {}}
    for folder in folders:
        tokenizer = CLIPTokenizer.from_pretrained(os.path.join(HERE, folder))
        padded = tokenizer(CORPUS, padding="max_length", max_length=tokenizer.model_max_length, truncation=True)
        full = tokenizer(CORPUS)
        tokens["folders"][folder] = {
            "pad_token_id": tokenizer.pad_token_id,
            "padded": padded.input_ids,
            "untruncated": full.input_ids,
        }
    dump(os.path.join(HERE, "tokens.json"), tokens)


# ---------------------------------------------------------------------------------------------
# Tiny text encoders


def write_tiny_tokenizers():
    """tiny/tokenizer (SD1.5's plain config) and tiny/tokenizer_2 (SDXL's hub layout, pad "!") on the cut
    vocabulary."""
    for folder, files in [("tokenizer", ["tokenizer_config.json", "special_tokens_map.json"]),
                          ("tokenizer_2", None)]:
        path = os.path.join(TINY, folder)
        shutil.rmtree(path, ignore_errors=True)
        tiny_tokenizer.write(path)
        if files:
            for name in files:
                shutil.copyfile(os.path.join(HERE, "tokenizer", name), os.path.join(path, name))
        else:
            config, special = hub_config("!")
            dump(os.path.join(path, "tokenizer_config.json"), config)
            dump(os.path.join(path, "special_tokens_map.json"), special)
    return [CLIPTokenizer.from_pretrained(os.path.join(TINY, f)) for f in ["tokenizer", "tokenizer_2"]]


def tiny_config(**overrides):
    return CLIPTextConfig(
        vocab_size=tiny_tokenizer.VOCAB_SIZE, hidden_size=32, intermediate_size=37, num_hidden_layers=5,
        num_attention_heads=4, max_position_embeddings=77, layer_norm_eps=1e-5,
        bos_token_id=tiny_tokenizer.BOS_TOKEN_ID, pad_token_id=1, **overrides)


def randomize(model, seed):
    """transformers initializes norms to (1, 0) and biases to 0; random values test that they are read.
    The scales keep the residual stream within ~10 so that an absolute bound means something."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            scale = 0.1 if name.endswith("bias") else 0.2
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * scale)
            if "layer_norm" in name and name.endswith("weight"):
                parameter.add_(1)
    return model.half().float().eval()


def write_text_encoders():
    text_encoder = randomize(CLIPTextModel(tiny_config(hidden_act="quick_gelu", eos_token_id=2, projection_dim=32)), 1)
    text_encoder_2 = randomize(
        CLIPTextModelWithProjection(tiny_config(hidden_act="gelu", eos_token_id=tiny_tokenizer.EOS_TOKEN_ID,
                                                projection_dim=24)), 2)

    folder = os.path.join(TINY, "text_encoder")
    os.makedirs(folder, exist_ok=True)
    text_encoder.config.architectures = ["CLIPTextModel"]
    text_encoder.config.to_json_file(os.path.join(folder, "config.json"))
    # The SD1.5 hub file: `text_model.` keys and the int64 position_ids buffer older transformers saved.
    legacy = {f"text_model.{k}": v.half().contiguous() for k, v in text_encoder.state_dict().items()}
    legacy["text_model.embeddings.position_ids"] = torch.arange(77).unsqueeze(0)
    save_file(legacy, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})

    text_encoder_2.half().save_pretrained(os.path.join(TINY, "text_encoder_2"))
    text_encoder_2.float()
    return text_encoder, text_encoder_2


def encoder_outputs(name, model, ids, out, every_layer):
    """The last hidden state (after the final norm), the penultimate layer's output (before it), and the
    pooled or projected output; with `every_layer`, the embeddings' and each layer's output too."""
    with torch.no_grad():
        result = model(torch.tensor(ids), output_hidden_states=True)
    states = result.hidden_states
    for layer, hidden in enumerate(states) if every_layer else [(len(states) - 2, states[-2])]:
        out[f"{name}.hidden_states.{layer}"] = hidden
    out[f"{name}.last_hidden_state"] = result.last_hidden_state
    if isinstance(model, CLIPTextModelWithProjection):
        out[f"{name}.text_embeds"] = result.text_embeds
    else:
        out[f"{name}.pooler_output"] = result.pooler_output


def model_cases(tokenizers):
    """Input ids for the encoders: tokenized prompts, a batch of 2, ids without an end token (where the
    legacy argmax and the eos match pick different positions), and a short unpadded sequence."""
    sd, xl = tokenizers
    generator = torch.Generator().manual_seed(3)
    bos = tiny_tokenizer.BOS_TOKEN_ID
    no_eos = torch.randint(0, bos, (2, 77), generator=generator)
    no_eos[0, 40] = bos  # the largest id, so the legacy path pools at 40 and the eos path at 0
    return {
        "single": sd(["a photo of an astronaut riding a horse on mars"], padding="max_length", max_length=77).input_ids,
        "batch2": sd(["((masterpiece)), a cat <|endoftext|> in a hat", LONG], padding="max_length", max_length=77,
                     truncation=True).input_ids,
        "batch2_pad0": xl(["a dog!", "hello!!! world"], padding="max_length", max_length=77).input_ids,
        "no_eos": no_eos.tolist(),
        "short": sd(["short prompt, unpadded"]).input_ids,
    }


# ---------------------------------------------------------------------------------------------
# diffusers' encode_prompt


def tiny_pipeline_parts():
    """The smallest UNet and VAE the pipelines accept; encode_prompt never runs them."""
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel

    unet = UNet2DConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                                up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), cross_attention_dim=32,
                                norm_num_groups=32)
    vae = AutoencoderKL(block_out_channels=[32], in_channels=3, out_channels=3, latent_channels=4,
                        down_block_types=["DownEncoderBlock2D"], up_block_types=["UpDecoderBlock2D"],
                        norm_num_groups=32)
    return unet, vae, DDIMScheduler(clip_sample=False)


PIPELINE_PROMPTS = [
    ("plain", "a photo of an astronaut riding a horse on mars", None),
    ("negative", "((masterpiece)), a cat in a hat!", "blurry, low quality, watermark"),
    ("long", LONG + " " + LONG, "ugly! deformed!!"),
    ("empty", "", ""),
]


def pipeline_outputs(text_encoder, text_encoder_2, tokenizers, out):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    unet, vae, scheduler = tiny_pipeline_parts()
    tokenizer, tokenizer_2 = tokenizers
    sd = StableDiffusionPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet,
                                 scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                 requires_safety_checker=False)
    xl = {flag: StableDiffusionXLPipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                                          tokenizer=tokenizer, tokenizer_2=tokenizer_2, unet=unet,
                                          scheduler=scheduler, force_zeros_for_empty_prompt=flag)
          for flag in (True, False)}
    with torch.no_grad():
        for case, prompt, negative in PIPELINE_PROMPTS:
            cond, uncond = sd.encode_prompt(prompt, "cpu", 1, True, negative_prompt=negative)
            out[f"sd.{case}.prompt_embeds"], out[f"sd.{case}.negative_prompt_embeds"] = cond, uncond
            # The flag only matters without a negative prompt.
            for flag, pipe in xl.items() if negative is None else [(True, xl[True])]:
                key = f"sdxl.{case}.zeros_{str(flag).lower()}"
                embeds = pipe.encode_prompt(prompt, device="cpu", num_images_per_prompt=1,
                                            do_classifier_free_guidance=True, negative_prompt=negative)
                for role, tensor in zip(["prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds",
                                         "negative_pooled_prompt_embeds"], embeds):
                    out[f"{key}.{role}"] = tensor
    return [{"case": case, "prompt": prompt, "negative_prompt": negative} for case, prompt, negative in PIPELINE_PROMPTS]


def main():
    torch.manual_seed(0)
    tokenize_corpus(write_tokenizer_folders())
    tokenizers = write_tiny_tokenizers()
    text_encoder, text_encoder_2 = write_text_encoders()
    cases = model_cases(tokenizers)
    out = {}
    for case, ids in cases.items():
        encoder_outputs(f"text_encoder.{case}", text_encoder, ids, out, every_layer=case == "batch2")
        encoder_outputs(f"text_encoder_2.{case}", text_encoder_2, ids, out, every_layer=case == "batch2")
    pipelines = pipeline_outputs(text_encoder, text_encoder_2, tokenizers, out)
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(HERE, "encoders.safetensors"))
    dump(os.path.join(HERE, "encoders.json"), {"input_ids": cases, "pipelines": pipelines})


if __name__ == "__main__":
    main()
