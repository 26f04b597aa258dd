"""Writes the normal-map (NormalBae) golden fixtures: controlnet_aux 0.0.10's NormalBaeDetector on
the full-size network with random weights kept in a small file.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/detectors/normal.py

The network is controlnet_aux's NNET exactly as NormalBaeDetector.from_pretrained builds it (the
EfficientNet-B5 encoder tf_efficientnet_b5_ap of its vendored geffnet, the BN decoder with its
pixel-wise MLPs, 72.6M parameters). Its decoder cannot be shrunk: its forward hard-codes the
widths 512, 256 and 128 (`feat_map.view(B, 512 + 4, -1)`), so the weights are made small instead.
Every tensor of normal_scannet.pt is a strided view into one of ten shared float16 "bands" of
seeded uniform values (torch.save stores each band once): a convolution's row o reads band
elements offset + 5 * o + j (rows overlap, shifted by 5 elements; j runs over in, kh, kw
contiguously), from the band of its fan-in scale 2^-k nearest sqrt(3 / fan_in); BatchNorm
weights come from a band 1 +- 0.25, running variances 0.5 +- 0.25 (a gain of about sqrt 2 that
makes up for what swish and the gates take, so activations keep their size and spatial variation
through 39 blocks), biases and means +- 1/32. The file has the published layout:
{"model": {"module.encoder.original_model....": ...}, "iter": 0}, as the DistributedDataParallel
training of the original repository saves it, and reads through the Swift pickle reader's
strided-view path.

For the first two of seeded.images(128) (astronaut 128x128, coffee 192x128), normal.safetensors holds:
    <name>.input   uint8 [h, w, 3], the image after controlnet_aux's resize_image
    <name>.map     uint8 [h, w, 3], NormalBaeDetector's 8-bit map
    astronaut.normal  float32 [h, w, 3], the network's out_res1[:, :3] (unit normals), HWC
and geffnet's conv2d_same (TensorFlow "same" padding) on odd sizes, where it pads asymmetrically:
    same.input [1, 3, 7, 9] (NCHW), same.k3.weight [4, 3, 3, 3], same.k3 (stride 2),
    same.k5.weight [3, 1, 5, 5] with groups 3, same.k5 (stride 2, depthwise)
"""
import json
import math
import os
import sys
import types

import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded import HERE, images  # noqa: E402

import controlnet_aux.normalbae as normalbae  # noqa: E402
from controlnet_aux.normalbae import NormalBaeDetector  # noqa: E402
from controlnet_aux.normalbae.nets.NNET import NNET  # noqa: E402

# The vendored geffnet imports itself as a top-level package (torch.hub loads it that way).
sys.path.insert(0, os.path.join(os.path.dirname(normalbae.__file__), "nets", "submodules", "efficientnet_repo"))
from geffnet.conv2d_layers import conv2d_same  # noqa: E402

RESOLUTION = 128
ROW_SHIFT = 5
# (offset, scale) of each band; conv bands are "w1" ... "w6", scale 2^-k.
BANDS = {"gamma": (1.0, 0.25), "var": (0.5, 0.25), "beta": (0.0, 0.03125),
         **{f"w{k}": (0.0, 2.0 ** -k) for k in range(0, 7)}}


def band_of(name, shape):
    if len(shape) == 1:
        if name.endswith("running_var"):
            return "var"
        if name.endswith("weight"):
            return "gamma"
        return "beta"
    fan_in = int(np.prod(shape[1:]))
    return f"w{min(max(round(-math.log2(math.sqrt(3.0 / fan_in))), 0), 6)}"


def layout(name, shape):
    """(size, stride) of the view: rows shifted by ROW_SHIFT, each row contiguous."""
    if len(shape) == 1:
        return shape, (1,)
    inner = [1]
    for size in reversed(shape[2:]):
        inner.insert(0, inner[0] * size)
    return shape, (ROW_SHIFT, *inner)


def extent(shape, stride):
    return 1 + sum((s - 1) * t for s, t in zip(shape, stride))


def banded_state(model):
    """The model's state as views into the bands, and the bands' sizes."""
    state = model.state_dict()
    need = {}
    for name, tensor in state.items():
        if tensor.is_floating_point():
            band = band_of(name, tuple(tensor.shape))
            need[band] = max(need.get(band, 0), extent(*layout(name, tuple(tensor.shape))))
    generator = torch.Generator().manual_seed(19)
    bands = {}
    for band, largest in sorted(need.items()):
        offset, scale = BANDS[band]
        size = largest + 1024
        bands[band] = (offset + scale * (torch.rand(size, generator=generator) * 2 - 1)).half()
    views = {}
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            views[name] = tensor.clone()  # num_batches_tracked
            continue
        shape = tuple(tensor.shape)
        band = bands[band_of(name, shape)]
        size, stride = layout(name, shape)
        start = int(torch.randint(0, band.numel() - extent(size, stride) + 1, (1,), generator=generator))
        views[name] = torch.as_strided(band, size, stride, start)
    return views, {k: v.numel() for k, v in bands.items()}


def same_padding_cases():
    g = torch.Generator().manual_seed(5)
    x = torch.rand(1, 3, 7, 9, generator=g) * 2 - 1
    k3 = torch.rand(4, 3, 3, 3, generator=g) - 0.5
    k5 = torch.rand(3, 1, 5, 5, generator=g) - 0.5
    return {"same.input": x, "same.k3.weight": k3, "same.k3": conv2d_same(x, k3, None, (2, 2)),
            "same.k5.weight": k5, "same.k5": conv2d_same(x, k5, None, (2, 2), groups=3)}


def main():
    torch.manual_seed(0)
    args = types.SimpleNamespace(mode="client", architecture="BN", pretrained="scannet",
                                 sampling_ratio=0.4, importance_ratio=0.7)
    model = NNET(args).eval()
    views, band_sizes = banded_state(model)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in views.items()}, strict=True)
    torch.save({"model": {"module." + k: v for k, v in views.items()}, "iter": 0},
               os.path.join(HERE, "normal_scannet.pt"))
    detector = NormalBaeDetector(model)
    tensors, summary = {}, {"bands": band_sizes}
    for name, image in list(images(RESOLUTION))[:2]:
        with torch.no_grad():
            x = detector.norm((torch.from_numpy(image).float() / 255.0).permute(2, 0, 1)[None])
            normal = model(x)[0][-1][0, :3].permute(1, 2, 0).numpy()
        detected = detector(image, detect_resolution=RESOLUTION, image_resolution=RESOLUTION, output_type="np")
        tensors[f"{name}.input"] = image
        if name == "astronaut":  # one image's float output keeps the file small
            tensors[f"{name}.normal"] = np.ascontiguousarray(normal, dtype=np.float32)
        tensors[f"{name}.map"] = np.ascontiguousarray(detected)
        summary[name] = {"normal_std": normal.reshape(-1, 3).std(0).round(3).tolist(),
                         "levels": [int(len(np.unique(detected[:, :, c]))) for c in range(3)]}
    for key, value in same_padding_cases().items():
        tensors[key] = np.ascontiguousarray(value.numpy(), dtype=np.float32)
    save_file(tensors, os.path.join(HERE, "normal.safetensors"))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
