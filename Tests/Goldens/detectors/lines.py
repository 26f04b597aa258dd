"""Writes the lines (M-LSD) golden fixtures: controlnet_aux 0.0.10's MLSDdetector on seeded weights.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/detectors/lines.py

The network is controlnet_aux's MobileV2_MLSD_Large at its real size (1.5M parameters), its
weights made by seeded.seeded from lines_weights.json (written here: name, shape, offset, scale
per tensor), which the Swift tests reproduce, so no weights are committed. For each image of
seeded.images(128) the fixture holds, in lines.safetensors:
    <name>.input     uint8 [h, w, 3], the image after controlnet_aux's resize_image
    <name>.output    float32 [5, h/2, w/2], the channels of the network's output the decoding reads
    <name>.segments  float64 [n, 4], pred_lines's (x_start, y_start, x_end, y_end)
    <name>.map       uint8 [h, w], MLSDdetector's map (one channel of the three equal ones)
and a constructed network output whose decoding is known to hold lines (random weights give
short, noisy segments), run through MLSDdetector with a stand-in network that returns it:
    constructed.output, constructed.segments, constructed.map at thr_v 0.1 / thr_d 0.1
    constructed.strict.segments, constructed.strict.map at thr_v 0.5 / thr_d 20
"""
import json
import math
import os
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded import HERE, images, seeded  # noqa: E402

from controlnet_aux.mlsd import MLSDdetector  # noqa: E402
from controlnet_aux.mlsd.models.mbv2_mlsd_large import MobileV2_MLSD_Large  # noqa: E402
from controlnet_aux.mlsd.utils import pred_lines  # noqa: E402

RESOLUTION = 128


def weight_rule(name, shape, groups):
    """(offset, scale) of a tensor: BatchNorm statistics near their trained ranges, convolutions
    scaled by their fan-in (a power of two near sqrt(3 / fan_in), so activations keep their size)."""
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean") or name.endswith("bias"):
        return 0.0, 0.125
    if len(shape) == 1:
        return 1.0, 0.25
    fan_in = shape[1] * shape[2] * shape[3]
    return 0.0, 2.0 ** round(math.log2(math.sqrt(3.0 / fan_in)))


def seeded_model():
    model = MobileV2_MLSD_Large().eval()
    manifest, state = {}, {}
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = tensor
            continue
        offset, scale = weight_rule(name, tuple(tensor.shape), None)
        manifest[name] = {"shape": list(tensor.shape), "offset": offset, "scale": scale}
        state[name] = torch.from_numpy(seeded(name, tuple(tensor.shape), offset, scale))
    model.load_state_dict(state, strict=True)
    return model, manifest


class Constant(torch.nn.Module):
    """Stands in for the network: returns a fixed output (pred_lines reads a parameter's device)."""

    def __init__(self, output):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))
        self.output = output

    def forward(self, x):
        return self.output


def constructed_output(h, w):
    """Centre logits of -6 (sigmoid 0.0025) with peaks whose displacements draw known lines:
    long ones, one weak peak (sigmoid 0.27: kept at thr_v 0.1, dropped at 0.5), one short line
    (length 6: kept at thr_d 0.1, dropped at 20), a plateau of two equal neighbours (both kept by
    the 3x3 max-pool test), and endpoints outside the image (clipped by cv2.line)."""
    out = np.zeros((1, 9, h, w), np.float32)
    out[0, 0] = -6
    peaks = [  # y, x, logit, dx0, dy0, dx1, dy1 (half-resolution pixels)
        (10, 10, 3.0, -8.25, -4.5, 20.75, 9.5),
        (30, 40, 2.0, 0.0, -25.5, 0.0, 30.25),
        (50, 20, -1.0, -15.0, 3.0, 12.5, -2.0),
        (20, 60, 4.0, -1.5, -2.0, 1.5, 2.0),
        (40, 70, 2.5, -90.0, -60.0, 40.0, 35.0),
        (55, 80, 1.5, -30.0, 0.0, 30.0, 0.0),
        (55, 81, 1.5, -30.0, 5.0, 30.0, 5.0),
    ]
    for y, x, logit, *d in peaks:
        out[0, 0, y, x] = logit
        out[0, 5:9, y, x] = 7.0  # the channels the decoding ignores
        out[0, 1:5, y, x] = d
    return torch.from_numpy(out)


def main():
    torch.manual_seed(0)
    model, manifest = seeded_model()
    detector = MLSDdetector(model)
    tensors, summary = {}, {}
    for name, image in images(RESOLUTION):
        with torch.no_grad():
            x = np.concatenate([image, np.ones([*image.shape[:2], 1])], axis=-1).transpose(2, 0, 1)
            x = torch.from_numpy((x[None].astype("float32") / 127.5) - 1.0)
            output = np.ascontiguousarray(model(x)[0, :5].numpy())
            segments = pred_lines(image, model, [image.shape[0], image.shape[1]], 0.1, 0.1)
        detected = detector(image, 0.1, 0.1, detect_resolution=RESOLUTION, image_resolution=RESOLUTION, output_type="np")
        assert (detected[:, :, 0] == detected[:, :, 2]).all()
        tensors[f"{name}.input"] = image
        tensors[f"{name}.output"] = output
        tensors[f"{name}.segments"] = np.asarray(segments, np.float64).reshape(-1, 4)
        tensors[f"{name}.map"] = np.ascontiguousarray(detected[:, :, 0])
        summary[name] = {"segments": len(segments), "line_pixels": int((detected[:, :, 0] > 0).sum())}

    image = next(i for n, i in images(RESOLUTION) if n == "coffee")
    h, w = image.shape[:2]
    output = constructed_output(h // 2, w // 2)
    tensors["constructed.input"] = image
    tensors["constructed.output"] = np.ascontiguousarray(output[0, :5].numpy())
    for key, thr_v, thr_d in [("constructed", 0.1, 0.1), ("constructed.strict", 0.5, 20.0)]:
        stand_in = Constant(output)
        with torch.no_grad():
            segments = pred_lines(image, stand_in, [h, w], thr_v, thr_d)
        detected = MLSDdetector(stand_in)(image, thr_v, thr_d, detect_resolution=RESOLUTION,
                                          image_resolution=RESOLUTION, output_type="np")
        tensors[f"{key}.segments"] = np.asarray(segments, np.float64).reshape(-1, 4)
        tensors[f"{key}.map"] = np.ascontiguousarray(detected[:, :, 0])
        summary[key] = {"segments": len(segments), "line_pixels": int((detected[:, :, 0] > 0).sum())}

    save_file(tensors, os.path.join(HERE, "lines.safetensors"))
    with open(os.path.join(HERE, "lines_weights.json"), "w") as f:
        json.dump(manifest, f, indent=0, sort_keys=True)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
