"""A small but real CLIP tokenizer for the tiny random text encoders of the goldens and fixtures.

CLIP's vocabulary is built from its merges (openai/CLIP simple_tokenizer.py): the 256 byte
characters, the same with `</w>`, each merge joined, then <|startoftext|> and <|endoftext|>. Cut
after the first MERGES merges, this gives a byte-level BPE tokenizer of 2,514 ids that transformers'
CLIPTokenizer and the runtime read like the full one, so a tiny text encoder needs 2,514 embedding
rows instead of 49,408 (160 KB instead of 3.1 MB at width 32 in F16). The full vocabulary keeps its
own goldens (Tests/Goldens/clip/tokens.json, the built-in Resources/SingleFile tokenizer).
"""
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "Sources" / "DiffusionPipeline" / "Resources" / "SingleFile" / "tokenizer"
MERGES = 2000
VOCAB_SIZE = 512 + MERGES + 2
BOS_TOKEN_ID, EOS_TOKEN_ID = VOCAB_SIZE - 2, VOCAB_SIZE - 1


def bytes_to_unicode():
    """CLIP's printable stand-ins for the 256 bytes, in CLIP's order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def vocab_and_merges(count=MERGES):
    """The vocabulary and merge lines of CLIP cut after `count` merges. Checks that every kept id is
    the full vocabulary's (the cut tokenizer is the full one's prefix, special tokens renumbered)."""
    lines = (FULL / "merges.txt").read_text(encoding="utf-8").split("\n")
    merges = lines[1:count + 1]
    chars = bytes_to_unicode()
    tokens = chars + [c + "</w>" for c in chars] + ["".join(m.split(" ")) for m in merges]
    full = json.loads((FULL / "vocab.json").read_text(encoding="utf-8"))
    assert all(full[token] == i for i, token in enumerate(tokens)), "not a prefix of CLIP's vocabulary"
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    assert len(tokens) == len(set(tokens)) == 512 + count + 2
    return {t: i for i, t in enumerate(tokens)}, [lines[0]] + merges


def write(folder, count=MERGES):
    """vocab.json and merges.txt of the cut tokenizer in `folder` (the configs are the caller's)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab, merges = vocab_and_merges(count)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("\n".join(merges) + "\n", encoding="utf-8")
