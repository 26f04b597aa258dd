"""Writes the DiffusionFormats golden fixtures.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/formats/generate.py

- python.safetensors: tensors of every dtype written by `safetensors.torch.save_file`,
  with values the Swift tests know by heart, plus a random F16 tensor and its torch
  `.float()` widening as the reference for the F16 fast path.
- png/*.png: tiny PNGs of every color type, bit depth, interlace and palette/tRNS
  combination. Most are written by the small encoder below (PIL cannot write 16-bit
  color or interlaced files); the pil_* ones are PIL's own output.
- png_expected.safetensors: for each PNG, `PIL.Image.open(f).convert("RGB")` as a U8
  tensor [height, width, 3], the bytes the Swift decoder must reproduce exactly.
- png/bad_*.png: well-formed chunks carrying headers the decoder must refuse.
"""
import io
import os
import struct
import zlib

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
PNG_DIR = os.path.join(HERE, "png")
rng = np.random.default_rng(0)


def safetensors_fixture():
    torch.manual_seed(0)
    f16_random = (torch.randn(1003) * 4).half()
    tensors = {
        "f32": torch.tensor([[0.0, -1.5, 3.25], [1e-40, 3.4028235e38, -0.0]], dtype=torch.float32),
        # 0.1 and 1/3 are not F16-exact: they check that torch's rounding is what the file holds.
        "f16": torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-14, 2.0**-24, 0.1, 1 / 3,
                             float("inf"), float("-inf"), float("nan")], dtype=torch.float16),
        "bf16": torch.tensor([[1.0, -3.140625], [2.0**-133, 3.3895314e38]], dtype=torch.bfloat16),
        "f64": torch.tensor([0.1, -2.0], dtype=torch.float64),
        # The buffer older transformers write into CLIP text-encoder checkpoints.
        "position_ids": torch.arange(77, dtype=torch.int64)[None],
        "i32": torch.tensor([-2147483648, 7], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(42.0),
        "empty": torch.zeros(0, 3),
        "f16_random": f16_random,
        "f16_random.float": f16_random.float(),
    }
    save_file(tensors, os.path.join(HERE, "python.safetensors"), metadata={"format": "pt", "note": "fixture"})


# --- A minimal PNG encoder: every filter type, Adam7, any color type and bit depth. ---

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, payload):
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def pack_row(samples, bit_depth):
    """Samples of one row (flattened channels) as PNG bytes: MSB-first bits, big-endian 16-bit."""
    if bit_depth == 16:
        return b"".join(struct.pack(">H", int(s)) for s in samples)
    if bit_depth == 8:
        return bytes(int(s) for s in samples)
    per_byte = 8 // bit_depth
    out = bytearray()
    for i in range(0, len(samples), per_byte):
        byte = 0
        for j in range(per_byte):
            value = int(samples[i + j]) if i + j < len(samples) else 0
            byte |= value << (8 - bit_depth * (j + 1))
        out.append(byte)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(kind, row, previous, bpp):
    out = bytearray([kind])
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        predictor = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out.append((x - predictor) & 0xFF)
    return bytes(out)


def scanlines(pixels, bit_depth, first_filter):
    """Filtered rows of one (sub)image; the filter type cycles so all five get decoded."""
    height, width, channels = pixels.shape
    bpp = max(1, channels * bit_depth // 8)
    rows = [pack_row(pixels[y].reshape(-1), bit_depth) for y in range(height)]
    previous = bytes(len(rows[0]))
    out = b""
    for y, row in enumerate(rows):
        out += filter_row((first_filter + y) % 5, row, previous, bpp)
        previous = row
    return out


def encode_png(pixels, color_type, bit_depth, interlace=False, palette=None, trns=None):
    height, width, _ = pixels.shape
    if interlace:
        data = b""
        for pass_index, (x0, y0, dx, dy) in enumerate(ADAM7):
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                data += scanlines(sub, bit_depth, pass_index)
    else:
        data = scanlines(pixels, bit_depth, 0)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, int(interlace)))
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    # Two IDAT chunks: the decoder must stitch the zlib stream across them.
    compressed = zlib.compress(data, 9)
    middle = len(compressed) // 2
    out += chunk(b"IDAT", compressed[:middle]) + chunk(b"IDAT", compressed[middle:])
    return out + chunk(b"IEND", b"")


def random_samples(height, width, color_type, bit_depth):
    top = (1 << bit_depth) - 1
    pixels = rng.integers(0, top + 1, size=(height, width, CHANNELS[color_type]))
    if bit_depth == 16:
        # PIL clamps 16-bit gray to 255 instead of scaling: half the samples below 256
        # keep that path honest, and 0x00FF/0x0100/0xFF00 sit on its edges.
        small = rng.integers(0, 256, size=pixels.shape)
        pixels = np.where(rng.random(pixels.shape) < 0.5, small, pixels)
        pixels.reshape(-1)[:3] = [0x00FF, 0x0100, 0xFF00]
    return pixels


def synthetic_pngs():
    """(name, bytes) of the encoder-made fixtures."""
    cases = []
    for color_type, depths in [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (4, [8, 16]), (6, [8, 16])]:
        for bit_depth in depths:
            for interlace in (False, True):
                height, width = (7, 6) if interlace else (5, 7)
                pixels = random_samples(height, width, color_type, bit_depth)
                name = f"ct{color_type}_{bit_depth}bit" + ("_adam7" if interlace else "")
                cases.append((name, encode_png(pixels, color_type, bit_depth, interlace)))
    for bit_depth in (1, 2, 4, 8):
        for interlace in (False, True):
            entries = 1 << bit_depth if bit_depth < 8 else 40
            palette = rng.integers(0, 256, size=(entries, 3))
            height, width = (7, 6) if interlace else (5, 7)
            pixels = rng.integers(0, entries, size=(height, width, 1))
            name = f"palette_{bit_depth}bit" + ("_adam7" if interlace else "")
            cases.append((name, encode_png(pixels, 3, bit_depth, interlace, palette=palette)))
            trns = bytes(rng.integers(0, 256, size=min(entries, 3)).tolist())
            cases.append((name + "_trns", encode_png(pixels, 3, bit_depth, interlace, palette=palette, trns=trns)))
    gray = random_samples(5, 7, 0, 4)
    cases.append(("ct0_4bit_trns", encode_png(gray, 0, 4, trns=struct.pack(">H", int(gray[0, 0, 0])))))
    rgb = random_samples(5, 7, 2, 8)
    cases.append(("ct2_8bit_trns", encode_png(rgb, 2, 8, trns=struct.pack(">HHH", *map(int, rgb[0, 0])))))
    rgb16 = random_samples(5, 7, 2, 16)
    cases.append(("ct2_16bit_trns", encode_png(rgb16, 2, 16, trns=struct.pack(">HHH", *map(int, rgb16[0, 0])))))
    # One pixel wide and tall: most Adam7 passes are empty.
    cases.append(("ct2_8bit_1x1_adam7", encode_png(random_samples(1, 1, 2, 8), 2, 8, interlace=True)))
    cases.append(("ct6_8bit_1x9_adam7", encode_png(random_samples(9, 1, 6, 8), 6, 8, interlace=True)))
    return cases


def pil_pngs():
    """(name, bytes) of PNGs saved by PIL itself (its own filter choices and zlib settings)."""
    cases = []
    for mode in ("RGB", "RGBA", "L", "LA", "P"):
        shape = (6, 10, len(mode)) if mode not in ("L", "P") else (6, 10)
        image = Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8), mode="L" if mode == "P" else None)
        if mode == "P":
            image = image.convert("RGB").quantize(16)
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=True)
        cases.append((f"pil_{mode.lower()}", buffer.getvalue()))
    return cases


def bad_pngs():
    """Headers the decoder must refuse before it allocates pixels."""
    tail = chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00")) + chunk(b"IEND", b"")

    def header(width, height):
        return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) + tail

    return [("bad_huge", header(100000, 100000)), ("bad_zero_width", header(0, 5))]


def png_fixtures():
    os.makedirs(PNG_DIR, exist_ok=True)
    expected = {}
    for name, data in synthetic_pngs() + pil_pngs():
        with open(os.path.join(PNG_DIR, name + ".png"), "wb") as f:
            f.write(data)
        rgb = Image.open(io.BytesIO(data)).convert("RGB")
        expected[name] = torch.from_numpy(np.asarray(rgb, dtype=np.uint8).copy())
    for name, data in bad_pngs():
        with open(os.path.join(PNG_DIR, name + ".png"), "wb") as f:
            f.write(data)
    save_file(expected, os.path.join(HERE, "png_expected.safetensors"))


if __name__ == "__main__":
    safetensors_fixture()
    png_fixtures()
