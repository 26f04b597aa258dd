"""Writes the image-input golden fixtures (JPEG decoding, PNG through the one decoder,
Pillow's resampling, CLIPImageProcessor's geometry).

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/images/generate.py

- files/*.jpg, files/*.png: small images written by Pillow (plus hand-made EXIF/XMP
  segments and damaged copies).
- decoded.safetensors: for each good file, `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`
  as U8 [height, width, 3], the pixels the Swift decoder must reproduce exactly.
- decoding.json: for each file, whether Pillow decodes it ("ok") or raises ("error"),
  so the damaged files' expectations come from Pillow too; "too large" for the file over
  the 64-megapixel limit, which Pillow is not asked about.
- resize.safetensors: sources (U8 [h, w, 3]) and `Image.resize((w, h), filter)` of them
  for every filter and a spread of up/down/one-axis sizes; "pattern" sources are not
  stored but made by the same integer formula in Swift (see `pattern` below).
- clip.safetensors: CLIPImageProcessor (transformers' PIL backend, the one the venv runs)
  on a few images: the uint8 image after resize + center crop, and pixel_values.
"""
import io
import json
import os
import struct

import numpy as np
from PIL import Image, ImageOps
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
rng = np.random.default_rng(7)


def photo(width, height):
    """A smooth picture with edges and a little noise, like a downscaled photograph."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 128 + 90 * np.sin(x / 5.0) * np.cos(y / 7.0)
    g = 255 * x / max(width - 1, 1)
    b = np.where((x - width / 2) ** 2 + (y - height / 2) ** 2 < (min(width, height) / 3) ** 2, 230.0, 30.0)
    image = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (height, width, 3))
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def pattern(width, height):
    """High-frequency integer pattern, rebuilt bit for bit by the Swift tests."""
    y, x, c = np.mgrid[0:height, 0:width, 0:3].astype(np.int64)
    return (((x * 31 + y * 17 + c * 101) ^ (x * y * 7 + c)) & 255).astype(np.uint8)


def jpeg_bytes(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def with_app1(jpeg, payload):
    """Inserts an APP1 segment right after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def exif_orientation(value, big_endian=False):
    """A minimal EXIF APP1 payload: a TIFF header and IFD0 holding only Orientation."""
    order = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(order + "HI", 42, 8)
    tiff += struct.pack(order + "H", 1) + struct.pack(order + "HHIH2x", 0x0112, 3, 1, value) + struct.pack(order + "I", 0)
    return b"Exif\0\0" + tiff


def xmp_orientation(value):
    packet = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
              b'xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="%d"/></rdf:RDF></x:xmpmeta>' % value)
    return b"http://ns.adobe.com/xap/1.0/\0" + packet


def patch_frame_size(jpeg, width, height):
    """Rewrites the SOF0/SOF2 dimensions."""
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = jpeg.find(marker)
        if at >= 0:
            return jpeg[:at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9:]
    raise ValueError("no SOF")


def png_bytes(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **options)
    return buffer.getvalue()


def image_files():
    base = Image.fromarray(photo(37, 29))
    # Asymmetric so every transposition is distinguishable.
    small = Image.fromarray(photo(13, 7))
    files = {
        "baseline_420.jpg": jpeg_bytes(base, quality=90, subsampling=2),
        "baseline_422.jpg": jpeg_bytes(base, quality=90, subsampling=1),
        "baseline_444.jpg": jpeg_bytes(base, quality=95, subsampling=0),
        "low_quality.jpg": jpeg_bytes(base, quality=15),
        "optimized.jpg": jpeg_bytes(base, quality=80, optimize=True),
        "progressive.jpg": jpeg_bytes(base, quality=85, progressive=True),
        "restart_markers.jpg": jpeg_bytes(base, quality=85, restart_marker_blocks=2),
        # Three components stored as RGB (Adobe transform 0), not YCbCr.
        "rgb_components.jpg": jpeg_bytes(base, quality=90, keep_rgb=True),
        "gray.jpg": jpeg_bytes(base.convert("L"), quality=90),
        "cmyk.jpg": jpeg_bytes(base.convert("CMYK"), quality=90),
        "wide_1x40.jpg": jpeg_bytes(Image.fromarray(photo(40, 1)), quality=90),
        "rgba.png": png_bytes(Image.fromarray(np.dstack([photo(11, 9), rng.integers(0, 256, (9, 11), np.uint8)]))),
        "gray_alpha.png": png_bytes(base.convert("LA")),
        "palette.png": png_bytes(base.quantize(16)),
        "palette_transparent.png": png_bytes(base.quantize(16), transparency=3),
        "rgb.png": png_bytes(base),
    }
    plain = jpeg_bytes(small, quality=92)
    for value in range(1, 9):
        files[f"orientation_{value}.jpg"] = with_app1(plain, exif_orientation(value))
    files["orientation_6_big_endian.jpg"] = with_app1(plain, exif_orientation(6, big_endian=True))
    files["orientation_xmp_8.jpg"] = with_app1(plain, xmp_orientation(8))
    # EXIF wins over XMP when both say something.
    files["orientation_exif_3_xmp_8.jpg"] = with_app1(with_app1(plain, xmp_orientation(8)), exif_orientation(3))
    files["orientation_9_ignored.jpg"] = with_app1(plain, exif_orientation(9))

    good = files["baseline_420.jpg"]
    files["bad_truncated_half.jpg"] = good[: len(good) // 2]
    files["bad_truncated_progressive.jpg"] = files["progressive.jpg"][: len(files["progressive.jpg"]) * 2 // 3]
    files["bad_header_only.jpg"] = good[:200]
    files["bad_garbage.jpg"] = b"\xff\xd8\xff" + rng.integers(0, 256, 300, np.uint8).tobytes()
    # 72 megapixels: Pillow would decode it (gray fill), the specification's limit refuses it.
    files["bad_huge.jpg"] = patch_frame_size(good, 9000, 8000)
    files["bad_zero_height.jpg"] = patch_frame_size(good, 37, 0)
    files["bad_truncated.png"] = files["rgb.png"][: len(files["rgb.png"]) - 30]
    # Losing only the end-of-image marker is still "truncated" for Pillow: libjpeg's
    # Huffman decoder reads ahead for bits and Pillow has no more bytes to give it.
    files["missing_eoi.jpg"] = good[:-2]
    return files


def decode_with_pillow(data):
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.array(ImageOps.exif_transpose(image).convert("RGB"))
    except Exception as error:  # noqa: BLE001 - any failure is "Pillow refuses it"
        return error


def write_files():
    os.makedirs(FILES, exist_ok=True)
    decoded, outcomes = {}, {}
    for name, data in sorted(image_files().items()):
        with open(os.path.join(FILES, name), "wb") as f:
            f.write(data)
        result = "over the limit" if name == "bad_huge.jpg" else decode_with_pillow(data)
        if isinstance(result, str):
            outcomes[name] = "too large"
        elif isinstance(result, Exception):
            outcomes[name] = "error"
        else:
            outcomes[name] = "ok"
            decoded[name] = np.ascontiguousarray(result)
    save_file(decoded, os.path.join(HERE, "decoded.safetensors"))
    with open(os.path.join(HERE, "decoding.json"), "w") as f:
        json.dump(outcomes, f, indent=1, sort_keys=True)
        f.write("\n")


FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


def write_resize():
    sources = {"photo": photo(64, 48), "noise": rng.integers(0, 256, (45, 67, 3), np.uint8)}
    # Not stored: rebuilt in Swift from the formula.
    generated = {"pattern_512x384": pattern(512, 384), "pattern_9x700": pattern(9, 700)}
    sizes = {
        # (55, 30) and (56, 30) sit on either side of the pass-order boundary.
        "photo": [(70, 52), (23, 17), (7, 5), (64, 20), (30, 48), (1, 1), (100, 25), (55, 30), (56, 30)],
        "noise": [(80, 50), (31, 22), (67, 13), (11, 45), (2, 90), (60, 20)],
        "pattern_512x384": [(64, 48), (120, 90), (511, 10)],
        "pattern_9x700": [(9, 64), (3, 5)],
    }
    tensors = {f"source/{name}": image for name, image in sources.items()}
    for name, image in {**sources, **generated}.items():
        for filter_name, resample in FILTERS.items():
            for width, height in sizes[name]:
                out = Image.fromarray(image).resize((width, height), resample)
                tensors[f"{name}/{filter_name}/{width}x{height}"] = np.array(out)
    save_file(tensors, os.path.join(HERE, "resize.safetensors"))


def check_pass_order(trials=300):
    """Pillow 13 runs its two separable passes in a size-dependent order, which changes
    the rounding; the Swift resampler follows the rule below, measured on this wheel
    (its C source is not in the public tree this project read). Regenerating with a
    Pillow that changed the rule fails here instead of producing goldens Swift misses."""
    order_rng = np.random.default_rng(3)
    decided = 0
    for _ in range(trials):
        W, H = (int(v) for v in order_rng.integers(2, 400, 2))
        w, h = (int(v) for v in order_rng.integers(1, 500, 2))
        if w == W or h == H:
            continue
        source = Image.fromarray(order_rng.integers(0, 256, (H, W, 3), np.uint8))
        reference = np.array(source.resize((w, h), Image.Resampling.BICUBIC))
        vertical_first = np.array(source.resize((W, h), Image.Resampling.BICUBIC).resize((w, h), Image.Resampling.BICUBIC))
        horizontal_first = np.array(source.resize((w, H), Image.Resampling.BICUBIC).resize((w, h), Image.Resampling.BICUBIC))
        if (vertical_first == horizontal_first).all():
            continue
        expected = vertical_first if h < H and H - h > 2 * (W - w) else horizontal_first
        if not (reference == expected).all():
            raise AssertionError(f"Pillow's pass order changed: {W}x{H} -> {w}x{h}")
        decided += 1
    assert decided > trials // 2, decided


def write_clip():
    from transformers import CLIPImageProcessor

    cases = {
        # name: (image, shortest edge, crop (height, width))
        "landscape": (photo(60, 41), 32, (32, 32)),
        "portrait": (photo(25, 70), 32, (30, 26)),
        "upscale": (photo(13, 11), 40, (40, 40)),
        "crop_larger": (photo(50, 36), 24, (30, 28)),
        "identity": (photo(32, 45), 32, (32, 32)),
        "pattern_112": (pattern(512, 384), 112, (112, 112)),
    }
    tensors = {}
    for name, (image, edge, (crop_h, crop_w)) in cases.items():
        processor = CLIPImageProcessor(size={"shortest_edge": edge}, crop_size={"height": crop_h, "width": crop_w})
        if "pattern" not in name:
            tensors[f"{name}/source"] = image
        values = processor(Image.fromarray(image), return_tensors="np")["pixel_values"][0]
        if "pattern" not in name:
            tensors[f"{name}/pixel_values"] = values.astype(np.float32)
        # The same steps without rescale/normalize give the 8-bit crop.
        plain = CLIPImageProcessor(size={"shortest_edge": edge}, crop_size={"height": crop_h, "width": crop_w},
                                   do_rescale=False, do_normalize=False)
        crop = plain(Image.fromarray(image), return_tensors="np")["pixel_values"][0]
        tensors[f"{name}/crop"] = np.ascontiguousarray(np.moveaxis(crop, 0, -1)).astype(np.uint8)
        tensors[f"{name}/edge"] = np.array([edge, crop_h, crop_w], dtype=np.int32)
    save_file(tensors, os.path.join(HERE, "clip.safetensors"))


if __name__ == "__main__":
    write_files()
    check_pass_order()
    write_resize()
    write_clip()
