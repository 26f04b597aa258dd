"""Reference outputs of the lineart Generator's building blocks, computed with PyTorch (CPU,
float32): ConvTranspose2d, InstanceNorm2d and ReflectionPad2d.

Run from the repository root with the pinned reference venv (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/core/lineart_ops.py
Writes Tests/Goldens/core/lineart_ops.safetensors, images in NCHW, inputs F16-exact (stored F16),
outputs F32:
  "convT.<case>.x", ".weight" ([in, out, kh, kw], torch's layout), ".bias" (when it has one), ".out";
  "instance.<case>.x", ".out" (and ".weight", ".bias" for the affine case);
  "reflect.<pad>.x", ".out".
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
out = {}


def randn(*shape):
    return torch.randn(*shape).half().float()


# name, in, out, (kh, kw), stride, padding, output_padding, dilation, bias, batch, (h, w)
CONV_TRANSPOSE = [
    ("generator", 6, 4, (3, 3), 2, 1, 1, 1, True, 1, (5, 7)),  # the Generator's upsampling geometry
    ("stride1", 5, 3, (3, 3), 1, 0, 0, 1, False, 2, (4, 6)),
    ("stride3", 4, 6, (4, 4), 3, 2, 1, 1, True, 1, (3, 5)),
    ("dilated", 3, 5, (3, 3), 2, 1, 1, 2, True, 1, (4, 4)),
    ("rectangular", 7, 2, (2, 3), 2, 0, 0, 1, False, 2, (3, 4)),
    ("wide", 40, 24, (3, 3), 2, 1, 1, 1, True, 1, (9, 8)),  # more channels than one SIMD block
]
for name, cin, cout, (kh, kw), s, p, op, d, has_bias, n, (h, w) in CONV_TRANSPOSE:
    x, weight = randn(n, cin, h, w), randn(cin, cout, kh, kw)
    bias = randn(cout) if has_bias else None
    out[f"convT.{name}.x"], out[f"convT.{name}.weight"] = x.half(), weight.half()
    if bias is not None:
        out[f"convT.{name}.bias"] = bias.half()
    out[f"convT.{name}.out"] = F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op, dilation=d)

# A mean far from zero and unequal channel scales: the statistics must not lose precision.
x = (randn(2, 5, 6, 7) * torch.tensor([1.0, 0.01, 3.0, 10.0, 0.5]).view(1, 5, 1, 1) + torch.tensor([0.0, 5.0, -2.0, 100.0, 1.0]).view(1, 5, 1, 1)).half().float()
out["instance.plain.x"] = x.half()
out["instance.plain.out"] = F.instance_norm(x, eps=1e-5)
weight, bias = randn(5), randn(5)
out["instance.affine.x"], out["instance.affine.weight"], out["instance.affine.bias"] = x.half(), weight.half(), bias.half()
out["instance.affine.out"] = F.instance_norm(x, weight=weight, bias=bias, eps=1e-5)
# A constant channel: variance 0, the output is 0 (times weight, plus bias).
c = torch.full((1, 3, 4, 4), 2.5)
out["instance.constant.x"], out["instance.constant.out"] = c.half(), F.instance_norm(c, eps=1e-5)

for pad in [1, 3]:
    x = randn(2, 3, 5, 6)
    out[f"reflect.{pad}.x"], out[f"reflect.{pad}.out"] = x.half(), F.pad(x, (pad,) * 4, mode="reflect")

save_file({k: v.contiguous() for k, v in out.items()}, str(Path(__file__).with_name("lineart_ops.safetensors")))
