"""Reference outputs of MaxPool2D, computed with PyTorch's `F.max_pool2d` (CPU, float32).

Run from the repository root with the pinned reference venv (Tests/Goldens/requirements.txt):
    ../venv/bin/python Tests/Goldens/core/pooling.py
Writes Tests/Goldens/core/pooling.safetensors: per case "<case>.x" (NCHW) and "<case>.out".
Inputs are F16-representable so the stored F16 loses nothing; outputs are F32.
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
# (name, batch, channels, height, width, kernel, stride, padding, ceil_mode)
CASES = [
    ("vgg_2x2", 1, 5, 8, 10, 2, 2, 0, False),
    ("odd_floor", 2, 3, 9, 7, 2, 2, 0, False),
    ("odd_ceil", 1, 4, 9, 7, 2, 2, 0, True),
    ("k3_s2_p1", 1, 6, 11, 12, 3, 2, 1, False),
    ("k3_s2_p1_ceil", 1, 6, 11, 12, 3, 2, 1, True),
    ("k3_s1_p1", 1, 2, 5, 6, 3, 1, 1, False),
    ("ceil_drop_last", 1, 3, 6, 6, 3, 2, 1, True),
    ("k2_s1", 1, 3, 4, 5, 2, 1, 0, False),
]
out = {}
for name, n, c, h, w, k, s, p, ceil in CASES:
    x = torch.randn(n, c, h, w).half().float()
    out[f"{name}.x"] = x.half()
    out[f"{name}.out"] = F.max_pool2d(x, k, s, p, ceil_mode=ceil).contiguous()
save_file(out, str(Path(__file__).with_name("pooling.safetensors")))
