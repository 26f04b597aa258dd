"""Reference outputs of OpenCVResize and ControlNetAuxImage: `cv2.resize` and controlnet_aux's
`resize_image` from the pinned venv (Tests/Goldens/requirements.txt).

Run from the repository root:
    ../venv/bin/python Tests/Goldens/detectors/resize.py
Writes Tests/Goldens/detectors/resize.safetensors: per case "<case>.x" and "<case>.out", HWC,
uint8 (U8) or float32 (F32) as cv2 saw them; "<case>.size" is the (width, height) asked for.
"""
from pathlib import Path

import cv2
import numpy as np
from controlnet_aux.util import resize_image
from safetensors.numpy import save_file

rng = np.random.default_rng(0)


def image(w, h, c=3):
    """Smooth shapes plus noise: both flat areas and sharp edges, where kernels differ most."""
    base = cv2.GaussianBlur(rng.uniform(0, 255, (h, w, c)).astype(np.float32), (0, 0), 2.0)
    base = (base - base.min()) / max(base.max() - base.min(), 1e-6) * 255
    yy, xx = np.mgrid[0:h, 0:w]
    base[(xx - w / 3) ** 2 + (yy - h / 2) ** 2 < (min(w, h) / 4) ** 2] = 250
    base += rng.normal(0, 8, base.shape)
    return np.clip(base, 0, 255).astype(np.uint8)


INTER = {"linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA, "lanczos4": cv2.INTER_LANCZOS4}
# (name, interpolation, source width, height, target width, height)
BYTES = [
    ("lanczos_up", "lanczos4", 40, 30, 67, 53),
    ("lanczos_down", "lanczos4", 61, 47, 40, 33),
    ("area_down", "area", 97, 61, 40, 25),
    ("area_half", "area", 96, 64, 48, 32),
    ("area_third", "area", 99, 66, 33, 22),
    ("area_up_one_axis", "area", 50, 40, 60, 20),
    ("area_up", "area", 31, 23, 70, 41),
    ("linear_up", "linear", 40, 30, 77, 41),
    ("linear_down", "linear", 90, 70, 41, 33),
    ("linear_mixed", "linear", 64, 64, 100, 37),
]
FLOATS = [
    ("float_lanczos_x8", "lanczos4", 12, 10, 96, 80),
    ("float_lanczos_down", "lanczos4", 60, 50, 37, 29),
    ("float_area_down", "area", 50, 40, 23, 17),
    ("float_area_half", "area", 40, 30, 20, 15),
    ("float_linear_up", "linear", 20, 16, 53, 37),
    ("float_linear_down", "linear", 53, 37, 20, 16),
]
out = {}
for name, inter, w, h, tw, th in BYTES:
    x = image(w, h)
    out[f"{name}.x"] = x
    out[f"{name}.out"] = cv2.resize(x, (tw, th), interpolation=INTER[inter])
    out[f"{name}.size"] = np.array([tw, th], dtype=np.int32)
for name, inter, w, h, tw, th in FLOATS:
    x = rng.normal(0, 1, (h, w, 2)).astype(np.float32)
    out[f"{name}.x"] = x
    out[f"{name}.out"] = cv2.resize(x, (tw, th), interpolation=INTER[inter])
    out[f"{name}.size"] = np.array([tw, th], dtype=np.int32)
# controlnet_aux's resize_image itself, at resolution 64 to keep the fixture small.
for name, w, h in [("resize_image_up", 40, 30), ("resize_image_down", 100, 75), ("resize_image_wide", 150, 50)]:
    x = image(w, h)
    out[f"{name}.x"] = x
    out[f"{name}.out"] = resize_image(x, 64)
save_file(out, str(Path(__file__).with_name("resize.safetensors")))
print({k: v.shape for k, v in out.items() if k.endswith(".out")})
