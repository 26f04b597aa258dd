"""Reference outputs of Tensor.resizedBilinear, computed with PyTorch's
`F.interpolate(mode="bilinear")` (CPU, float32, no antialiasing).

Run from the repository root with the pinned reference venv (Tests/Goldens/requirements.txt):
    ../venv/bin/python Tests/Goldens/core/bilinear.py
Writes Tests/Goldens/core/bilinear.safetensors: per case "<case>.x" (NCHW, F16-exact values
stored as F16), "<case>.align" and "<case>.half" (align_corners True and False, F32).
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
# (name, batch, channels, height, width, out height, out width)
CASES = [
    ("up2x", 1, 3, 5, 6, 10, 12),
    ("up_odd", 2, 2, 4, 7, 9, 17),
    ("down", 1, 4, 16, 13, 7, 5),
    ("mixed", 1, 3, 6, 9, 11, 4),
    ("to_one", 1, 2, 5, 5, 1, 1),
    ("from_one", 1, 2, 1, 1, 3, 4),
    ("same", 1, 2, 4, 4, 4, 4),
]
out = {}
for name, n, c, h, w, oh, ow in CASES:
    x = torch.randn(n, c, h, w).half().float()
    out[f"{name}.x"] = x.half()
    out[f"{name}.align"] = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=True).contiguous()
    out[f"{name}.half"] = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False).contiguous()
save_file(out, str(Path(__file__).with_name("bilinear.safetensors")))
