"""Writes the prompt-weighting golden fixtures: A1111's emphasis parse, chunking and weighted embeddings.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/prompts/generate.py

The reference is AUTOMATIC1111/stable-diffusion-webui (v1.10): modules/prompt_parser.py
`parse_prompt_attention`, modules/sd_hijack_clip.py `tokenize_line` / `process_tokens` (75-token chunks,
comma backtrack of 20, BOS/EOS per chunk) and modules/sd_emphasis.py `EmphasisOriginal` (each token's
hidden state times its weight, then the whole chunk rescaled to its original mean). Their behaviour is
re-implemented below, step for step, on transformers' CLIP tokenizers and the tiny text encoders of
Tests/Goldens/clip (so the Swift side and this script run the very same models): the parses and
chunks on the full CLIP tokenizers (tokenizer/, tokenizer_2/), the embeddings on the tiny pipeline
folder tiny/ (the tokenizers cut after 2000 merges that its encoders' embeddings match).

Writes, under Tests/Goldens/prompts/:
- parses.json: for every prompt of PROMPTS, A1111's [text, weight] list (or "error" where A1111's
  float() raises), and the chunked ids and multipliers of both tokenizers.
- embeddings.safetensors + embeddings.json: weighted, chunked SD1.5 and SDXL embeddings of a few
  prompt / negative-prompt pairs, the negative padded with empty chunks to the prompt's count, and the
  tiny SD1.5 UNet (Tests/Fixtures/Weights/tiny-sd15) conditioned on the 4-chunk (308-token) "long" pair.
"""
import json
import os
import re

import torch
from safetensors.torch import save_file
from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
CLIP = os.path.join(HERE, "..", "clip")

# A1111's token pattern: escapes, a lone backslash, brackets, ':weight)' closing a round bracket, a
# run of plain text, and a lone colon; alternatives tried in this order.
ATTENTION = re.compile(r"""
\\\(|\\\)|\\\[|\\]|\\\\|\\|
\(|\[|
:\s*([+-]?[.\d]+)\s*\)|
\)|]|
[^\\()\[\]:]+|
:
""", re.X)
BREAK = re.compile(r"\s*\bBREAK\b\s*", re.S)
ROUND, SQUARE = 1.1, 1 / 1.1


def parse_prompt_attention(text):
    """A1111's parse: [[text, weight], ...], BREAK as ["BREAK", -1], equal neighbours merged."""
    result, round_open, square_open = [], [], []

    def scale_from(start, factor):
        for entry in result[start:]:
            entry[1] *= factor

    for match in ATTENTION.finditer(text):
        token, weight = match.group(0), match.group(1)
        if token.startswith("\\"):
            result.append([token[1:], 1.0])
        elif token == "(":
            round_open.append(len(result))
        elif token == "[":
            square_open.append(len(result))
        elif weight is not None and round_open:
            scale_from(round_open.pop(), float(weight))
        elif token == ")" and round_open:
            scale_from(round_open.pop(), ROUND)
        elif token == "]" and square_open:
            scale_from(square_open.pop(), SQUARE)
        else:
            for index, part in enumerate(BREAK.split(token)):
                if index > 0:
                    result.append(["BREAK", -1])
                result.append([part, 1.0])
    for start in round_open:
        scale_from(start, ROUND)
    for start in square_open:
        scale_from(start, SQUARE)
    if not result:
        result = [["", 1.0]]
    merged = [result[0]]
    for entry in result[1:]:
        if merged[-1][1] == entry[1]:
            merged[-1][0] += entry[0]
        else:
            merged.append(entry)
    return merged


def chunk(tokenizer, parsed, chunk_length=75, comma_backtrack=20):
    """A1111's tokenize_line without textual inversion: each chunk is BOS, 75 ids (padded with EOS,
    which process_tokens turns into the pad token after the first EOS), EOS; weights 1 on the specials."""
    comma = tokenizer.get_vocab()[",</w>"]
    bos, eos, pad = tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id
    chunks, ids, weights, last_comma = [], [], [], -1

    def close():
        nonlocal ids, weights, last_comma
        body = ids + [eos] * (chunk_length - len(ids))
        first_eos = body.index(eos) if eos in body else chunk_length
        full = [bos] + body + [eos]
        full = full[:first_eos + 2] + [pad] * (len(full) - first_eos - 2)
        chunks.append((full, [1.0] + weights + [1.0] * (chunk_length - len(weights)) + [1.0]))
        ids, weights, last_comma = [], [], -1

    tokenized = [tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"] for text, _ in parsed]
    for tokens, (text, weight) in zip(tokenized, parsed):
        if text == "BREAK" and weight == -1:
            close()
            continue
        for token in tokens:
            if token == comma:
                last_comma = len(ids)
            elif len(ids) == chunk_length and last_comma != -1 and len(ids) - last_comma <= comma_backtrack:
                moved_ids, moved_weights = ids[last_comma + 1:], weights[last_comma + 1:]
                ids, weights = ids[:last_comma + 1], weights[:last_comma + 1]
                close()
                ids, weights = moved_ids, moved_weights
            if len(ids) == chunk_length:
                close()
            ids.append(token)
            weights.append(weight)
    if ids or not chunks:
        close()
    return chunks


def empty_chunk(tokenizer):
    return chunk(tokenizer, [["", 1.0]])[0]


def emphasize(z, multipliers):
    """EmphasisOriginal.after_transformers on one chunk of one prompt: [77, D] times the weights, rescaled
    so the mean over the chunk is what it was."""
    original = z.mean()
    z = z * multipliers.reshape(-1, 1)
    return z * (original / z.mean())


def encode_chunks(chunks, run):
    """Each chunk through `run` (ids -> [77, D]), weighted, then concatenated on the token axis."""
    return torch.cat([emphasize(run(ids), torch.tensor(weights)) for ids, weights in chunks], dim=0)


PROMPTS = [
    "", "normal text", "an (important) word", "(unbalanced", "unbalanced)", "[unbalanced", "unbalanced]",
    r"\(literal\]", "(unnecessary)(parens)", "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
    "((ugly face))", "[[[tiny]]]", "(a:1.3)", "(a:-1)", "(a:0)", "(a: 1.5 )", "(a:+.5)", "(a:2.)",
    "(a:1e3)", "(a:1.2.3)", "(a:.)", "a:b:c", "(a:b)", "[a:1.5]", "([mixed]) ([(deep)])", "((a)b)c",
    r"\\", r"a\b", r"a \\( b", r"\(", "trailing \\", "a BREAK b", "BREAK", "a BREAK", "BREAK a",
    "aBREAK b", "a BREAKb", "a\nBREAK\tb", "(a BREAK b)", "a BREAK BREAK b", "break is lowercase",
    "(x:1.1)(y:1.1)", "((a:1.2):1.5)", "[(a:2)]", "))((", "]][[", "(a [b) c]", "\u00e9l\u00e8ve (caf\u00e9:1.2)",
    "(a:\u0661.\u0665)", "(a:1.5\u3000)", "\u3000BREAK\u3000b", "cat \U0001F431 (dog:0.8)",
]

LONG = ", ".join(f"word{i} (tag{i}:1.2)" for i in range(30))  # about 200 tokens, commas every few
COMMA_EDGE = " ".join(["x"] * 70) + ", " + " ".join(["y"] * 10)  # comma at 71: the last 4 move on

EMBEDDING_CASES = [
    ("plain", "a photo of an astronaut riding a horse on mars", "blurry"),
    ("emphasis", "a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", "((ugly face)), [blurry]"),
    ("long", LONG, "(low quality:1.4)"),
    ("comma", COMMA_EDGE, ""),
    ("break", "a red house BREAK (oil painting:1.2)", "BREAK"),
    ("negative_weight", "(cat:-1) and (dog:0)", "(dog:1.5)"),
]


def parse_or_error(prompt):
    try:
        return parse_prompt_attention(prompt)
    except ValueError:  # float('1.2.3'): A1111 fails the generation
        return None


def main():
    tokenizers = {name: CLIPTokenizer.from_pretrained(os.path.join(CLIP, name)) for name in ["tokenizer", "tokenizer_2"]}
    entries = []
    for prompt in PROMPTS + [LONG, COMMA_EDGE]:
        parsed = parse_or_error(prompt)
        entry = {"prompt": prompt, "parsed": parsed}
        if parsed is not None:
            entry["chunks"] = {name: [{"ids": ids, "weights": weights} for ids, weights in chunk(tok, parsed)]
                               for name, tok in tokenizers.items()}
        entries.append(entry)
    with open(os.path.join(HERE, "parses.json"), "w") as f:  # one prompt a line
        f.write("[\n" + ",\n".join(json.dumps(entry, ensure_ascii=True) for entry in entries) + "\n]\n")

    # The F16 weights of Tests/Goldens/clip/tiny widened to float32, as the runtime runs them.
    tiny = os.path.join(CLIP, "tiny")
    text_encoder = CLIPTextModel.from_pretrained(os.path.join(tiny, "text_encoder"), dtype=torch.float32).eval()
    text_encoder_2 = CLIPTextModelWithProjection.from_pretrained(
        os.path.join(tiny, "text_encoder_2"), dtype=torch.float32).eval()
    sd_tok, xl_tok = (CLIPTokenizer.from_pretrained(os.path.join(tiny, name)) for name in ["tokenizer", "tokenizer_2"])

    def last(ids):
        return text_encoder(torch.tensor([ids])).last_hidden_state[0]

    def penultimate(model):
        return lambda ids: model(torch.tensor([ids]), output_hidden_states=True).hidden_states[-2][0]

    out = {}
    with torch.no_grad():
        for case, prompt, negative in EMBEDDING_CASES:
            for family, tokenizer_list in (("sd", [sd_tok]), ("sdxl", [sd_tok, xl_tok])):
                runs = [last] if family == "sd" else [penultimate(text_encoder), penultimate(text_encoder_2)]
                per_role = {}
                for role, text in (("prompt", prompt), ("negative", negative)):
                    per_role[role] = [chunk(tok, parse_prompt_attention(text)) for tok in tokenizer_list]
                count = max(len(per_role[r][0]) for r in per_role)
                for role, chunk_lists in per_role.items():
                    # Pad to the same number of chunks with the empty prompt's chunk (A1111's pad_cond_uncond).
                    padded = [c + [empty_chunk(tok)] * (count - len(c)) for c, tok in zip(chunk_lists, tokenizer_list)]
                    embeds = torch.cat([encode_chunks(c, run) for c, run in zip(padded, runs)], dim=-1)
                    out[f"{family}.{case}.{role}_embeds"] = embeds.unsqueeze(0)
                    if family == "sdxl":
                        # The pooled output of the first chunk, as A1111 returns zs[0].pooled.
                        first_ids = padded[1][0][0]
                        out[f"{family}.{case}.{role}_pooled"] = text_encoder_2(torch.tensor([first_ids])).text_embeds
    # The tiny SD1.5 UNet conditioned on the 4-chunk (308-token) prompt and its padded negative.
    from diffusers import UNet2DConditionModel
    unet = UNet2DConditionModel.from_pretrained(os.path.join(HERE, "..", "..", "Fixtures", "Weights", "tiny-sd15", "unet"),
                                                dtype=torch.float32).eval()
    sample = torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        hidden = torch.cat([out["sd.long.prompt_embeds"], out["sd.long.negative_embeds"]])
        out["unet.long.output"] = unet(sample, 400, encoder_hidden_states=hidden).sample.permute(0, 2, 3, 1)
    out["unet.long.sample"] = sample.permute(0, 2, 3, 1)
    save_file({k: v.float().contiguous() for k, v in out.items()}, os.path.join(HERE, "embeddings.safetensors"))
    with open(os.path.join(HERE, "embeddings.json"), "w") as f:
        json.dump([{"case": c, "prompt": p, "negative_prompt": n} for c, p, n in EMBEDDING_CASES], f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
