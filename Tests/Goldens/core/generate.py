"""Reference outputs of the tensor-core ops, computed with PyTorch (CPU, float32).

Run from the repository root with the pinned reference venv (Tests/Goldens/requirements.txt):
    ../venv/bin/python Tests/Goldens/core/generate.py
Writes Tests/Goldens/core/ops.safetensors. Image tensors are stored in PyTorch's NCHW
layout; the Swift tests permute them to NHWC. Every case is "<op>.<case>.<role>".
"""
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)
out = {}


def put(name, **tensors):
    """Outputs ("out*" roles) are stored as F32; inputs as F16 to keep the file small. Inputs
    are made F16-exact with `f16` before the reference runs, so nothing is lost."""
    for role, t in tensors.items():
        t = t.detach().contiguous()
        out[f"{name}.{role}"] = t.float() if role.startswith("out") or role in OUTPUT_ROLES else t.half()


OUTPUT_ROLES = {"silu", "gelu", "gelu_tanh", "quick_gelu"}


def randn(*shape):
    """Normal samples rounded to F16-representable values."""
    return torch.randn(*shape).half().float()


def matmul_cases():
    a, b = randn(2, 37, 53), randn(53, 29)
    put("matmul.folded", a=a, b=b, out=a @ b)
    a, b = randn(2, 13, 17), randn(2, 17, 11)
    put("matmul.batched", a=a, b=b, out=a @ b)
    a, b = randn(64, 64), randn(48, 64)
    put("matmul.transposed", a=a, b=b, out=a @ b.T)
    x, w, bias = randn(2, 77, 40), randn(72, 40), randn(72)
    put("linear.bias", x=x, weight=w, bias=bias, out=F.linear(x, w, bias))
    x, w = randn(3, 1, 13), randn(5, 13)
    put("linear.nobias", x=x, weight=w, out=F.linear(x, w))


# (name, batch, in, height, width, out, kernel, stride, padding, bias)
CONVS = [
    ("sd_small", 2, 4, 8, 8, 32, 3, 1, 1, True),
    ("one_pixel", 1, 3, 1, 1, 5, 3, 1, 1, True),
    ("odd", 2, 13, 7, 9, 19, 3, 1, 1, True),
    ("stride2_odd", 1, 8, 9, 11, 12, 3, 2, 1, True),
    ("stride2", 2, 16, 8, 8, 16, 3, 2, 1, True),
    ("pointwise", 1, 10, 5, 6, 7, 1, 1, 0, True),
    ("pointwise_stride2", 1, 5, 4, 4, 3, 1, 2, 0, False),
    ("wide", 1, 32, 16, 16, 64, 3, 1, 1, True),
    ("sd_channels", 1, 320, 4, 4, 40, 3, 1, 1, True),
    ("valid", 1, 6, 6, 6, 10, 3, 1, 0, False),
    ("nobias", 2, 4, 8, 8, 32, 3, 1, 1, False),
]


def conv_cases():
    for name, n, cin, h, w, cout, k, s, p, has_bias in CONVS:
        x = randn(n, cin, h, w)
        weight = (randn(cout, cin, k, k) / (cin * k * k) ** 0.5).half().float()
        bias = randn(cout) if has_bias else None
        tensors = dict(x=x, weight=weight, out=F.conv2d(x, weight, bias, stride=s, padding=p))
        if bias is not None:
            tensors["bias"] = bias
        put(f"conv.{name}", **tensors)


def norm_cases():
    for name, shape, groups, eps in [("sd", (2, 32, 8, 8), 8, 1e-5), ("odd", (1, 24, 5, 7), 4, 1e-6),
                                     ("one_pixel", (2, 64, 1, 1), 32, 1e-5)]:
        x = (randn(*shape) * 3 + 1.5).half().float()
        weight, bias = randn(shape[1]), randn(shape[1])
        y = F.group_norm(x, groups, weight, bias, eps)
        put(f"groupnorm.{name}", x=x, weight=weight, bias=bias, out=y, out_silu=F.silu(y))
    for name, shape in [("clip", (2, 77, 40)), ("odd", (3, 5, 13))]:
        x = (randn(*shape) * 2 - 0.5).half().float()
        weight, bias = randn(shape[-1]), randn(shape[-1])
        put(f"layernorm.{name}", x=x, weight=weight, bias=bias, out=F.layer_norm(x, shape[-1:], weight, bias, 1e-5))
    x = randn(3, 7, 33) * 8
    put("softmax.large", x=x, out=torch.softmax(x, -1))


def activation_cases():
    x = torch.linspace(-8, 8, 1001).half().float()
    put("activation", x=x, silu=F.silu(x), gelu=F.gelu(x), gelu_tanh=F.gelu(x, approximate="tanh"),
        quick_gelu=x * torch.sigmoid(1.702 * x))


def layout_cases():
    x = randn(2, 3, 5, 7)
    put("upsample", x=x, out=F.interpolate(x, scale_factor=2.0, mode="nearest"))
    a, b = randn(2, 3, 4, 5), randn(2, 6, 4, 5)
    put("concat.channels", a=a, b=b, out=torch.cat([a, b], 1))


def attention_cases():
    # (name, batch, queries, keys, heads, head_dim, causal)
    for name, b, lq, lk, heads, dim, causal in [("self", 2, 64, 64, 2, 8, False), ("causal", 1, 77, 77, 5, 8, True),
                                                ("cross", 1, 300, 77, 2, 16, False), ("odd", 2, 33, 5, 3, 7, False)]:
        q, k, v = randn(b, lq, heads * dim), randn(b, lk, heads * dim), randn(b, lk, heads * dim)
        split = lambda t: t.view(b, -1, heads, dim).transpose(1, 2)
        o = F.scaled_dot_product_attention(split(q), split(k), split(v), is_causal=causal)
        put(f"attention.{name}", q=q, k=k, v=v, out=o.transpose(1, 2).reshape(b, lq, heads * dim))


matmul_cases()
conv_cases()
norm_cases()
activation_cases()
layout_cases()
attention_cases()
save_file(out, str(Path(__file__).with_name("ops.safetensors")))
print(f"{len(out)} tensors")
