"""Writes the seg (UniFormer-S + UperNet, ADE20k) golden fixtures: the annotator of
lllyasviel/ControlNet-v1-1-nightly (annotator/uniformer, with its vendored mmcv and mmseg) on a
shrunk network with random weights.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt) and a clone
or bare mirror of the annotator's repository, which is read at COMMIT (`git archive`):
    /work/venv/bin/python Tests/Goldens/detectors/seg.py <path to ControlNet-v1-1-nightly's git dir>

The network is the annotator's own config (exp/upernet_global_small/config.py: UniFormer with
global attention in stages 3 and 4, UperNet with pooling scales 1, 2, 3, 6, 150 classes) with
the widths and depths shrunk and every structural choice kept: embed_dim (16, 32, 64, 128),
layers (2, 2, 2, 1), the published head_dim 64 (so 1 head in stage 3, 2 in stage 4), mlp_ratio
1, decoder channels 16, auxiliary head channels 8. Random weights, rounded to float16, are saved as seg_tiny.pth in mmcv's checkpoint
form ({"meta": {...}, "state_dict": OrderedDict}, torch.save), which the annotator loads with
mmcv's load_checkpoint and runs in float32. The detector is UniformerDetector.__call__ without
its .cuda(): inference_segmentor (the config's test pipeline: mmcv.imrescale to fit (2048, 512),
Normalize with to_rgb, whole-image inference, logits resized to the rescaled and then the
original size, softmax, argmax) and show_result_pyplot with get_palette('ade') and opacity 1.
For each image, seg.safetensors holds:
    <name>.input   uint8 [h, w, 3], the image given to the detector (RGB, as the gradio app passes it)
    <name>.logits  float32 [150, ceil(h' / 64), ceil(w' / 64)]: the decode head's logits (at a
                   quarter of the rescaled size h' x w') at every 16th of their rows and
                   columns (to keep the fixture small; the maps cover every pixel)
    <name>.map     uint8 [h, w, 3], the detector's colour map
The images: three of seeded.images(128) (enlarged 4x by the rescale), and a 320x64 strip that
the rescale enlarges 6.4x to 2048x410 (long side bound; sides not multiples of 32).
"""
import collections
import os
import subprocess
import sys
import tempfile
import types

import cv2
import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded import HERE, images  # noqa: E402

COMMIT = "e2b44154b72965c5e11b1ccee941d550682e4701"  # lllyasviel/ControlNet-v1-1-nightly, 2023-05-24
RESOLUTION, STRIDE = 128, 16


def load_annotator(repository):
    """The annotator package at COMMIT, extracted to a temporary folder and imported. mmseg's
    apis import matplotlib.pyplot for plotting the annotator never does: a stub stands in."""
    folder = tempfile.mkdtemp(prefix="controlnet-v11-")
    archive = subprocess.run(["git", f"--git-dir={repository}", "archive", COMMIT, "annotator"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
    pyplot = types.ModuleType("matplotlib.pyplot")
    sys.modules.setdefault("matplotlib", types.ModuleType("matplotlib")).pyplot = pyplot
    sys.modules.setdefault("matplotlib.pyplot", pyplot)
    sys.path.insert(0, folder)
    return os.path.join(folder, "annotator", "uniformer", "exp", "upernet_global_small", "config.py")


def tiny_config(path):
    from annotator.uniformer import mmcv
    config = mmcv.Config.fromfile(path)
    dims = [16, 32, 64, 128]
    config.model.backbone.update(embed_dim=dims, layers=[2, 2, 2, 1], head_dim=64, mlp_ratio=1.0)
    config.model.decode_head.update(in_channels=dims, channels=16)
    config.model.auxiliary_head.update(in_channels=dims[2], channels=8)
    return config


def random_state(model):
    """Seeded float16 weights: norms near the identity, running variances positive, other
    tensors scaled by 1/sqrt(fan-in) so activations keep their size."""
    generator = torch.Generator().manual_seed(0)
    state = collections.OrderedDict()
    for name, tensor in model.state_dict().items():
        if not tensor.is_floating_point():
            state[name] = tensor.clone()
            continue
        noise = torch.randn(tensor.shape, generator=generator)
        if name.endswith("running_var"):
            value = 1.0 + 0.2 * noise.abs()
        elif name.endswith("running_mean"):
            value = 0.2 * noise
        elif tensor.ndim == 1 and ("norm" in name or "bn" in name):
            value = (1.0 if name.endswith("weight") else 0.0) + 0.2 * noise
        elif tensor.ndim == 1:
            value = 0.1 * noise
        else:
            value = noise / np.sqrt(tensor[0].numel())
        state[name] = value.half()
    return state


def strip():
    from seeded import sample_photo
    return cv2.resize(sample_photo("coffee.png"), (320, 64), interpolation=cv2.INTER_AREA)


def main(repository):
    config_path = load_annotator(repository)
    from annotator.uniformer.mmseg.apis import inference_segmentor, init_segmentor, show_result_pyplot
    from annotator.uniformer.mmseg.core.evaluation import get_palette
    from annotator.uniformer.mmseg.datasets import ADE20KDataset

    config = tiny_config(config_path)
    state = random_state(init_segmentor(config, None, device="cpu"))
    weights = os.path.join(HERE, "seg_tiny.pth")
    meta = {"CLASSES": ADE20KDataset.CLASSES, "PALETTE": ADE20KDataset.PALETTE, "mmcv_version": "1.3.17",
            "config": "exp/upernet_global_small/config.py, shrunk", "iter": 160000, "hook_msgs": {"last_ckpt": "iter_160000.pth"}}
    torch.save({"meta": meta, "state_dict": state}, weights)
    model = init_segmentor(config, weights, device="cpu")

    logits, forward = [], model.decode_head.forward
    # forward_test calls the head's forward directly, which module hooks do not see.
    model.decode_head.forward = lambda inputs: logits.append(forward(inputs)) or logits[-1]
    cases = [(name, image) for name, image in images(RESOLUTION) if name != "chelsea"] + [("strip", strip())]
    tensors = {}
    for name, image in cases:
        result = inference_segmentor(model, image)
        colours = show_result_pyplot(model, image, result, get_palette("ade"), opacity=1)
        head = logits.pop()[0].numpy()
        tensors[f"{name}.input"] = np.ascontiguousarray(image)
        tensors[f"{name}.logits"] = np.ascontiguousarray(head[:, ::STRIDE, ::STRIDE]).astype(np.float32)
        tensors[f"{name}.map"] = np.ascontiguousarray(colours)
        print(name, image.shape, "head", head.shape, "classes", len(np.unique(result[0])))
    save_file(tensors, os.path.join(HERE, "seg.safetensors"))


if __name__ == "__main__":
    main(sys.argv[1])
