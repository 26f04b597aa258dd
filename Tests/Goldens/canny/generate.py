"""Writes the CannyDetector golden fixtures: test images and OpenCV's Canny edges for each.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt, plus
Tests/Goldens/canny/requirements.txt for the bundled sample photos):
    /work/venv/bin/python Tests/Goldens/canny/generate.py

The reference is what controlnet_aux's CannyDetector computes when it does not resize:
HWC3(cv2.Canny(rgb, 100, 200)) on the HWC uint8 RGB array (3 channels, aperture 3, L1 norm).
Each image <name> is stored raw, because the Swift tests must not depend on a PNG decoder:
    <name>.rgb    height*width*3 bytes, row-major, RGB interleaved
    <name>.edges  height*width bytes, 0 or 255 (one channel; the detector repeats it 3 times)
manifest.json lists name, width and height of every image, in order.
"""
import json
import os

import cv2
import numpy as np
import skimage
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = os.path.dirname(os.path.abspath(__file__))
LOW, HIGH = 100, 200


# ---------------------------------------------------------------- procedural images

def gradient_shapes(w=128, h=96):
    """Smooth colour ramps with anti-aliased shapes on top: a plain 'photo-like' scene."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    base = np.stack([40 + 150 * x / w, 60 + 120 * y / h, 200 - 100 * (x + y) / (w + h)], axis=2)
    img = Image.fromarray(base.astype(np.uint8))
    big = img.resize((w * 4, h * 4), Image.BILINEAR)
    d = ImageDraw.Draw(big)
    d.ellipse((40, 40, 220, 200), fill=(230, 200, 40))
    d.rectangle((260, 80, 470, 300), fill=(30, 90, 160))
    d.polygon([(100, 360), (300, 230), (420, 370)], fill=(200, 60, 70))
    d.ellipse((300, 20, 380, 100), fill=(120, 120, 120))
    return np.asarray(big.resize((w, h), Image.LANCZOS))


def noise_texture(w=97, h=61, seed=1):
    """Band-limited colour noise: many weak, tangled edges; odd width and height."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(h // 4 + 1, w // 4 + 1, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((w, h), Image.BICUBIC)
    fine = rng.normal(0, 12, size=(h, w, 3))
    return np.clip(np.asarray(img).astype(np.float64) + fine, 0, 255).astype(np.uint8)


def blurred_blobs(w=120, h=80, seed=2):
    """Random coloured discs, Gaussian-blurred: soft edges whose strength varies along them."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), (90, 110, 100))
    d = ImageDraw.Draw(img)
    for _ in range(14):
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(5, 22)
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return np.asarray(img.filter(ImageFilter.GaussianBlur(1.6)))


def text_strokes(w=150, h=64):
    """Text and thin pen strokes: one- and two-pixel lines, closely spaced parallel edges."""
    img = Image.new("RGB", (w, h), (245, 240, 225))
    d = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=18)
    d.text((6, 4), "Canny 100/200", fill=(20, 20, 30), font=font)
    d.text((8, 30), "edges & ink", fill=(150, 30, 30), font=font)
    d.line((2, 58, 148, 50), fill=(10, 60, 140), width=1)
    d.line((120, 2, 146, 40), fill=(10, 10, 10), width=2)
    return np.asarray(img)


def diagonal_edges(w=96, h=96):
    """Hard (aliased) edges at 45, 30, 60, 22.5 and 67.5 degrees: exercises every NMS sector."""
    img = Image.new("RGB", (w, h), (0, 0, 0))
    d = ImageDraw.Draw(img)
    d.polygon([(0, 0), (95, 95), (0, 95)], fill=(255, 255, 255))
    d.polygon([(48, 0), (95, 0), (95, 27)], fill=(255, 0, 128))            # ~30 degrees
    d.polygon([(60, 40), (95, 40), (95, 100)], fill=(0, 200, 255))         # ~60 degrees
    d.polygon([(10, 20), (40, 20), (40, 32)], fill=(180, 180, 0))          # ~22 degrees
    d.polygon([(20, 50), (25, 50), (35, 75)], fill=(90, 255, 90))          # ~68 degrees
    return np.asarray(img)


def channel_ties(w=64, h=64):
    """Channels whose gradients tie in magnitude but point in different directions.

    OpenCV keeps the first channel (R, then G, then B) on a tie; the direction, and so the NMS
    neighbours, come from that channel.
    """
    y, x = np.mgrid[0:h, 0:w]
    r = np.where(x >= 32, 200, 100)                    # vertical edge, step 100
    g = np.where(y >= 32, 200, 100)                    # horizontal edge, same step
    b = np.where(x + y >= 64, 180, 80)                 # diagonal edge, same step
    img = np.stack([r, g, b], axis=2)
    img[40:56, 8:24] = [150, 150, 150]                 # a grey square: equal gradients in all channels
    img[8:24, 40:56, 0] = 50                           # R alone differs in this square
    img[8:24, 40:56, 2] = 130                          # ...and B with the opposite sign
    return img.astype(np.uint8)


def threshold_steps(w=100, h=40):
    """Vertical steps whose Sobel magnitude (4 * step) sits just below, at, and above 100 and 200.

    Steps 25 and 50 give magnitudes 100 and 200, which are not above the thresholds (strict >).
    The lower half links weak steps to a strong one through a horizontal bridge, for hysteresis.
    """
    img = np.zeros((h, w, 3), dtype=np.int32)
    level, x = 20, 0
    for step in [24, 25, 26, 49, 50, 51, 30]:
        x += 12
        img[:20, x:] += step
    img[20:, :] = 20
    img[20:, 40:] = 80                                 # strong: step 60 -> 240
    img[26:28, 40:90] = 40                             # weak bridge: steps of 40 and 40
    img[20:, 90:] = 107                                # weak: step 27 -> 108 over 80
    return np.clip(img + level, 0, 255).astype(np.uint8)


def flat(w=64, h=48):
    """One colour: no gradient anywhere, so no edges."""
    return np.full((h, w, 3), (123, 45, 200), dtype=np.uint8)


def shallow_ramp(w=70, h=50):
    """A ramp of 1 level per pixel (magnitude 8): far below the thresholds everywhere."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x + 10, y + 100, (x + y) // 2 + 50], axis=2).astype(np.uint8)


def random_noise(w=80, h=80, seed=3):
    """Independent uniform noise per pixel and channel: the worst case for ties and hysteresis."""
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def checker_lines(w=72, h=54):
    """A 6-pixel checkerboard with one-pixel lines: corners, where NMS sectors meet."""
    y, x = np.mgrid[0:h, 0:w]
    v = ((x // 6 + y // 6) % 2) * 200 + 30
    img = np.stack([v, v, 255 - v], axis=2)
    img[:, 35] = [255, 0, 0]
    img[27] = [0, 255, 0]
    return img.astype(np.uint8)


def tiny(w, h, seed):
    """Images of a few pixels: every pixel is on the border."""
    return np.random.default_rng(seed).integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def sample_photo(name, box, size):
    """A natural photo that ships inside scikit-image's wheel, cropped and downsized with PIL."""
    path = os.path.join(os.path.dirname(skimage.__file__), "data", name)
    img = Image.open(path).convert("RGB").crop(box)
    return np.asarray(img.resize(size, Image.LANCZOS))


def images():
    yield "gradient_shapes", gradient_shapes()
    yield "noise_texture", noise_texture()
    yield "blurred_blobs", blurred_blobs()
    yield "text_strokes", text_strokes()
    yield "diagonal_edges", diagonal_edges()
    yield "channel_ties", channel_ties()
    yield "threshold_steps", threshold_steps()
    yield "flat", flat()
    yield "shallow_ramp", shallow_ramp()
    yield "random_noise", random_noise()
    yield "checker_lines", checker_lines()
    yield "tiny_1x1", tiny(1, 1, 4)
    yield "tiny_3x5", tiny(3, 5, 5)
    yield "row_33x1", tiny(33, 1, 6)
    yield "column_1x33", tiny(1, 33, 7)
    yield "tiny_4x4", tiny(4, 4, 8)
    yield "astronaut", sample_photo("astronaut.png", (0, 0, 512, 512), (160, 160))
    yield "coffee", sample_photo("coffee.png", (0, 0, 600, 400), (144, 96))
    yield "chelsea", sample_photo("chelsea.png", (80, 0, 451, 300), (128, 104))


# ---------------------------------------------------------------- reference edges

def reference_edges(rgb):
    """cv2.Canny as controlnet_aux calls it, checked to be the same on 1 and 2 threads."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    assert rgb.ndim == 3 and rgb.shape[2] == 3
    threads = cv2.getNumThreads()
    edges = cv2.Canny(rgb, LOW, HIGH)
    cv2.setNumThreads(1)
    single = cv2.Canny(rgb, LOW, HIGH)
    cv2.setNumThreads(threads)
    assert np.array_equal(edges, single), "OpenCV's result depends on its thread count"
    assert set(np.unique(edges)) <= {0, 255}
    return edges


def main():
    for f in os.listdir(HERE):
        if f.endswith((".rgb", ".edges")):
            os.remove(os.path.join(HERE, f))
    manifest = []
    for name, rgb in images():
        h, w = rgb.shape[:2]
        edges = reference_edges(rgb)
        with open(os.path.join(HERE, name + ".rgb"), "wb") as f:
            f.write(rgb.astype(np.uint8).tobytes())
        with open(os.path.join(HERE, name + ".edges"), "wb") as f:
            f.write(edges.tobytes())
        manifest.append({"name": name, "width": w, "height": h, "edgePixels": int((edges > 0).sum())})
        print(f"{name:16s} {w:4d}x{h:<4d} {int((edges > 0).sum()):6d} edge pixels")
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump({"opencv": cv2.__version__, "low": LOW, "high": HIGH, "images": manifest}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
