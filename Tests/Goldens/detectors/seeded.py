"""Shared pieces of the depth and lines golden generators (depth.py, lines.py).

Images: sample photos shipped with scikit-image and a drawn scene of straight edges, each put
through controlnet_aux's own resize_image to a small detect resolution (so that the pipeline's
resize is the identity on the stored input and the networks stay cheap).

Seeded weights: tensors made from a counter-based generator that the Swift tests reproduce bit
for bit (Tests/DiffusionDetectorsTests/SeededWeights.swift), so that a full-size network needs no
committed weights: element i of tensor `name` is
    u = (splitmix64(fnv1a64(name) + i * 0x9E3779B97F4A7C15) >> 40) / 2**23 - 1   (in [-1, 1))
    value = offset + scale * u
with `offset` and `scale` powers of two or small dyadic numbers, so float32 holds every value exactly.
"""
import os

import numpy as np
import skimage
from PIL import Image, ImageDraw

from controlnet_aux.util import HWC3, resize_image

HERE = os.path.dirname(os.path.abspath(__file__))
MASK = (1 << 64) - 1


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for byte in text.encode():
        h = ((h ^ byte) * 0x100000001B3) & MASK
    return h


def splitmix64(x):
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def seeded(name, shape, offset, scale):
    n = int(np.prod(shape)) if len(shape) else 1
    with np.errstate(over="ignore"):
        x = np.uint64(fnv1a64(name)) + np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    u = (splitmix64(x) >> np.uint64(40)).astype(np.float64) / 2.0**23 - 1.0
    return (offset + scale * u).astype(np.float32).reshape(shape)


def sample_photo(name):
    path = os.path.join(os.path.dirname(skimage.__file__), "data", name)
    return HWC3(np.asarray(Image.open(path).convert("RGB")))


def drawn_scene(w=600, h=400):
    """A room-like scene of straight edges: the structure M-LSD is trained on."""
    img = Image.new("RGB", (w, h), (200, 196, 188))
    d = ImageDraw.Draw(img)
    d.polygon([(0, 0), (150, 80), (150, 320), (0, h)], fill=(150, 140, 130))       # left wall
    d.polygon([(w, 0), (450, 80), (450, 320), (w, h)], fill=(170, 160, 150))       # right wall
    d.polygon([(0, h), (150, 320), (450, 320), (w, h)], fill=(90, 70, 60))         # floor
    d.rectangle((220, 120, 380, 250), fill=(40, 60, 110))                          # window
    d.line((300, 120, 300, 250), fill=(230, 230, 230), width=5)
    d.line((220, 185, 380, 185), fill=(230, 230, 230), width=5)
    d.rectangle((30, 200, 110, 380), fill=(120, 80, 40))                           # door
    return np.asarray(img)


def images(resolution):
    """(name, HWC uint8 RGB) at `resolution` on the short side, sides multiples of 64."""
    for name, image in [
        ("astronaut", sample_photo("astronaut.png")),
        ("coffee", sample_photo("coffee.png")),
        ("chelsea", sample_photo("chelsea.png")),
        ("room", drawn_scene()),
    ]:
        yield name, resize_image(image, resolution)
