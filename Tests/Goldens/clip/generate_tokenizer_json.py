"""Writes tokenizer.json-only CLIP tokenizer folders, as transformers 5 saves them, and their ids.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt), after
generate.py (it reads tokenizer/, tokenizer_2/ and the corpus in tokens.json):
    /work/venv/bin/python Tests/Goldens/clip/generate_tokenizer_json.py

transformers 5 writes a CLIP tokenizer as tokenizer.json + tokenizer_config.json, with no
vocab.json or merges.txt. The full vocabulary would make a 3.6 MB fixture, so the folders here
keep CLIP's first 2000 merges: the 512 byte tokens, the 2000 merged tokens (CLIP numbers a merge's
token 512 + its rank) and the two special tokens, renumbered after them. That is still a valid
byte-level BPE, and transformers' ids on it are the reference.

- tokenizer_json/: from tokenizer/ (SD1.5's layout, pad <|endoftext|>), merges as "a b" strings
  (the form tokenizers wrote before 0.20).
- tokenizer_json_2/: from tokenizer_2/ (SDXL's, pad "!", <|startoftext|> normalized), merges as
  [a, b] pairs (the current form).
- tokens_tokenizer_json.json: transformers' ids for every corpus prompt, padded to 77 and truncated
  as diffusers asks, and untruncated.
"""
import json
import os
import shutil
import tempfile

from transformers import CLIPTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
MERGES = 2000


def trim(tokenizer_json, pair_merges):
    """Keeps the first MERGES merges and the tokens they need; renumbers the special tokens."""
    model = tokenizer_json["model"]
    keep = 512 + MERGES
    specials = {"<|startoftext|>": keep, "<|endoftext|>": keep + 1}
    vocab = {token: id for token, id in model["vocab"].items() if id < keep}
    vocab.update(specials)
    model["vocab"] = vocab
    merges = model["merges"][:MERGES]
    model["merges"] = [list(pair) for pair in merges] if pair_merges else [" ".join(pair) for pair in merges]
    for token in tokenizer_json["added_tokens"]:
        token["id"] = specials.get(token["content"], token["id"])
    processor = tokenizer_json["post_processor"]
    processor["cls"][1], processor["sep"][1] = specials["<|startoftext|>"], specials["<|endoftext|>"]
    return tokenizer_json


def write_folder(source, name, pair_merges):
    folder = os.path.join(HERE, name)
    shutil.rmtree(folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        CLIPTokenizer.from_pretrained(os.path.join(HERE, source)).save_pretrained(scratch)
        assert sorted(os.listdir(scratch)) == ["tokenizer.json", "tokenizer_config.json"], os.listdir(scratch)
        with open(os.path.join(scratch, "tokenizer.json")) as f:
            trimmed = trim(json.load(f), pair_merges)
        with open(os.path.join(scratch, "tokenizer.json"), "w") as f:
            json.dump(trimmed, f, ensure_ascii=False)
        # Reloaded and saved again by transformers, so the folder is exactly what it writes.
        CLIPTokenizer.from_pretrained(scratch).save_pretrained(folder)
    with open(os.path.join(folder, "tokenizer.json")) as f:
        merges = json.load(f)["model"]["merges"]
    if not pair_merges:  # transformers saves pairs; the older string form is written back by hand
        with open(os.path.join(folder, "tokenizer.json")) as f:
            saved = json.load(f)
        saved["model"]["merges"] = [" ".join(pair) if isinstance(pair, list) else pair for pair in merges]
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            json.dump(saved, f, ensure_ascii=False)
    return folder


def main():
    with open(os.path.join(HERE, "tokens.json")) as f:
        corpus = json.load(f)["prompts"]
    tokens = {"prompts": corpus, "folders": {}}
    for source, name, pairs in [("tokenizer", "tokenizer_json", False), ("tokenizer_2", "tokenizer_json_2", True)]:
        tokenizer = CLIPTokenizer.from_pretrained(write_folder(source, name, pairs))
        padded = tokenizer(corpus, padding="max_length", max_length=tokenizer.model_max_length, truncation=True)
        tokens["folders"][name] = {
            "pad_token_id": tokenizer.pad_token_id,
            "padded": padded.input_ids,
            "untruncated": tokenizer(corpus).input_ids,
        }
    with open(os.path.join(HERE, "tokens_tokenizer_json.json"), "w") as f:
        json.dump(tokens, f, indent=1, ensure_ascii=True)
        f.write("\n")


if __name__ == "__main__":
    main()
