"""Reference outputs of GroupedConv2D and BatchNorm folding, computed with PyTorch (CPU, float32).

Run from the repository root with the pinned reference venv (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/core/grouped_conv.py
Writes Tests/Goldens/core/grouped_conv.safetensors: "<case>.x", ".weight", ".bias", ".out" with
images in NCHW, inputs F16-exact (stored F16), outputs F32; the batch-norm case adds
".bn_weight", ".bn_bias", ".bn_mean", ".bn_var" and its output is conv followed by eval-mode BN.
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
out = {}


def randn(*shape):
    return torch.randn(*shape).half().float()


# name, in, out, kernel, stride, padding, dilation, groups, bias, (h, w)
CASES = [
    ("depthwise", 24, 24, 3, 1, 1, 1, 24, True, (9, 11)),
    ("depthwise_stride2", 20, 20, 3, 2, 0, 1, 20, False, (10, 13)),
    ("dilated", 12, 10, 3, 1, 5, 5, 1, True, (14, 12)),
    ("grouped", 8, 12, 3, 2, 1, 1, 4, True, (7, 9)),
    ("dilated_grouped", 6, 4, 2, 1, 2, 2, 2, False, (6, 5)),
]
for name, cin, cout, k, s, p, d, g, has_bias, (h, w) in CASES:
    x, weight = randn(2, cin, h, w), randn(cout, cin // g, k, k)
    bias = randn(cout) if has_bias else None
    out[f"{name}.x"], out[f"{name}.weight"] = x.half(), weight.half()
    if bias is not None:
        out[f"{name}.bias"] = bias.half()
    out[f"{name}.out"] = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=g)

x, weight, bias = randn(1, 5, 6, 7), randn(8, 5, 3, 3), randn(8)
bn = [t.half().float() for t in (randn(8) * 0.5 + 1, randn(8), randn(8), randn(8).abs() + 0.5)]
out.update({"batchnorm.x": x.half(), "batchnorm.weight": weight.half(), "batchnorm.bias": bias.half(),
            "batchnorm.bn_weight": bn[0].half(), "batchnorm.bn_bias": bn[1].half(),
            "batchnorm.bn_mean": bn[2].half(), "batchnorm.bn_var": bn[3].half()})
y = F.conv2d(x, weight, bias, padding=1)
out["batchnorm.out"] = F.batch_norm(y, bn[2], bn[3], bn[0], bn[1], training=False, eps=1e-5)

save_file({k: v.contiguous() for k, v in out.items()}, str(Path(__file__).with_name("grouped_conv.safetensors")))
