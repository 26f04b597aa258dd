"""Shared by the detector golden generators: the test images and the tiny networks' weights."""
from pathlib import Path

import cv2
import numpy as np
import torch
from skimage import data

HERE = Path(__file__).parent


def images():
    """Three photographs from scikit-image, shrunk (cv2.INTER_AREA) to sides that are multiples
    of 64 and below the detect resolution, so controlnet_aux's Lanczos enlargement runs and
    `image_resolution=min(h, w)` gives the map back at the image's size. Saved as PNG (lossless)."""
    shapes = {"astronaut": (data.astronaut(), 192, 192), "coffee": (data.coffee(), 256, 192),
              "chelsea": (data.chelsea(), 256, 192)}
    out = {}
    for name, (rgb, w, h) in shapes.items():
        small = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA)
        cv2.imwrite(str(HERE / f"{name}.png"), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        out[name] = small
    return out


def randomize(module, seed, scales):
    """Seeded uniform weights; each conv's weights scaled by `scales(name)` over sqrt(fan-in) so
    activations keep their size through the layers, biases small."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim == 4:
                fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * (3 / fan_in) ** 0.5 * scales(name))
            else:
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * 0.1)
