"""Goldens of OpenposeDetector (controlnet_aux 0.0.10, body only).

Run from the repository root with the pinned venv (Tests/Goldens/requirements.txt):
    ../venv/bin/python Tests/Goldens/detectors/pose.py

1. The network: a tiny random bodypose_model (the published layer names and kernel sizes, the
   channel counts shrunk: the Swift model reads them from the weights), saved in float16 as
   pose_tiny.pth; "network.pafs" and "network.heatmaps" (its NCHW outputs for astronaut.png, prepared
   as Body.__call__ prepares it) in pose.safetensors.
2. The decoding and drawing: random weights find no people, so controlnet_aux's Body runs with
   its network replaced by fixed outputs drawn from two hand-made skeletons ("decode.pafs",
   "decode.heatmaps", NCHW, for a 768x512 image). Saved: "decode.candidate" (x, y, score, id of
   every peak), "decode.subset" (controlnet_aux's people), and decode_map.png, the map
   OpenposeDetector returns (detect_resolution 512, image_resolution 512).
"""
from collections import OrderedDict

import cv2
import numpy as np
import torch
from controlnet_aux.open_pose import OpenposeDetector
from controlnet_aux.open_pose.body import Body
from controlnet_aux.open_pose.model import bodypose_model, make_layers
from controlnet_aux.util import HWC3, resize_image
from safetensors.numpy import save_file

from common import HERE, images, randomize

out = {}


def shrink(block, sizes):
    return OrderedDict((name, [sizes.get(v[0], v[0]), sizes.get(v[1], v[1])] + v[2:] if "pool" not in name else v)
                       for name, v in block.items())


def tiny_model():
    """bodypose_model with 64/128/256/512 channels as 4/8/8/8 and the stages' 185 inputs as 65."""
    model = bodypose_model()
    sizes = {64: 4, 128: 8, 256: 8, 512: 8, 185: 38 + 19 + 8}
    no_relu = ['conv5_5_CPM_L1', 'conv5_5_CPM_L2', 'Mconv7_stage2_L1', 'Mconv7_stage2_L2', 'Mconv7_stage3_L1',
               'Mconv7_stage3_L2', 'Mconv7_stage4_L1', 'Mconv7_stage4_L2', 'Mconv7_stage5_L1', 'Mconv7_stage5_L2',
               'Mconv7_stage6_L1', 'Mconv7_stage6_L1']
    for attr, seq in list(model.named_children()):
        block = OrderedDict()
        for name, layer in seq.named_children():
            if name.startswith("relu_"):
                continue
            if isinstance(layer, torch.nn.MaxPool2d):
                block[name] = [layer.kernel_size, layer.stride, layer.padding]
            else:
                block[name] = [layer.in_channels, layer.out_channels, layer.kernel_size[0], layer.stride[0], layer.padding[0]]
        setattr(model, attr, make_layers(shrink(block, sizes), no_relu))
    randomize(model, 18, lambda name: 1.5)
    # Saved as float16 (half the file); the reference runs on the same rounded values.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    return model.eval()


# 1. The network on astronaut.png, as Body.__call__ prepares it.
model = tiny_model()
torch.save({k.split(".", 1)[1]: v.half() for k, v in model.state_dict().items()}, HERE / "pose_tiny.pth")
astronaut = resize_image(HWC3(images()["astronaut"]), 512)[:, :, ::-1]
scale = 0.5 * 368 / astronaut.shape[0]
from controlnet_aux.open_pose import util
scaled = util.smart_resize_k(astronaut, fx=scale, fy=scale)
padded, pad = util.padRightDownCorner(scaled, 8, 128)
x = torch.from_numpy(np.ascontiguousarray(np.transpose(np.float32(padded[:, :, :, None]), (3, 2, 0, 1)) / 256 - 0.5))
with torch.no_grad():
    pafs, heatmaps = model(x)

out["network.pafs"] = pafs.numpy()
out["network.heatmaps"] = heatmaps.numpy()
print("network", x.shape, pafs.shape, float(pafs.std()), float(heatmaps.std()))

# 2. Decoding: fixed network outputs for a 768 x 512 image (scaled to 276 x 184, padded to
# 280 x 184: outputs 35 x 23).
LIMBS = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13], [13, 14],
         [2, 1], [1, 15], [15, 17], [1, 16], [16, 18], [3, 17], [6, 18]]
MAP_IDX = [[31, 32], [39, 40], [33, 34], [35, 36], [41, 42], [43, 44], [19, 20], [21, 22], [23, 24], [25, 26],
           [27, 28], [29, 30], [47, 48], [49, 50], [53, 54], [51, 52], [55, 56], [37, 38], [45, 46]]
# Keypoints (x, y) on the 35 x 23 output grid: nose, neck, right arm, left arm, right leg,
# left leg, eyes, ears (OpenPose's order). The second person has no left leg.
PEOPLE = [
    [(9, 3), (9, 6), (6.5, 6.2), (5, 10), (4.5, 13.5), (11.5, 6), (13, 10), (13.5, 13.5), (7.5, 12.5), (7, 16.5),
     (7, 20.5), (10.5, 12.5), (11, 16.5), (11.5, 20.5), (8.3, 2.4), (9.8, 2.4), (7.6, 2.8), (10.5, 2.8)],
    [(25, 4), (25, 7.5), (22.5, 7.5), (21, 11), (20, 14), (27.5, 7.5), (29, 11), (30, 14.5), (23.5, 14), (23, 17.5),
     (23, 21), None, None, None, (24.3, 3.4), (25.7, 3.4), (23.6, 3.9), (26.4, 3.9)],
]
gh, gw = 23, 35
yy, xx = np.mgrid[0:gh, 0:gw].astype(np.float64)
heat = np.zeros((19, gh, gw))
paf = np.zeros((38, gh, gw))
for person in PEOPLE:
    for part, p in enumerate(person):
        if p is not None:
            heat[part] = np.maximum(heat[part], np.exp(-((xx - p[0]) ** 2 + (yy - p[1]) ** 2) / (2 * 0.8 ** 2)))
    for (a, b), (cx, cy) in zip(LIMBS, MAP_IDX):
        pa, pb = person[a - 1], person[b - 1]
        if pa is None or pb is None:
            continue
        v = np.array(pb) - np.array(pa)
        length = np.linalg.norm(v)
        u = v / length
        # Cells within 1 of the segment carry the unit vector.
        t = np.clip(((xx - pa[0]) * u[0] + (yy - pa[1]) * u[1]), 0, length)
        d = np.hypot(xx - (pa[0] + t * u[0]), yy - (pa[1] + t * u[1]))
        near = d <= 1.0
        paf[cx - 19][near] = u[0]
        paf[cy - 19][near] = u[1]
heat[18] = np.clip(1 - heat[:18].max(axis=0), 0, 1)
fixed_pafs = torch.from_numpy(paf[None].astype(np.float32))
fixed_heatmaps = torch.from_numpy(heat[None].astype(np.float32))


class FixedOutputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.device_marker = torch.nn.Parameter(torch.zeros(1))  # Body reads the device from a parameter

    def forward(self, x):
        assert x.shape[2:] == (gh * 8, gw * 8), x.shape
        return fixed_pafs, fixed_heatmaps


body = Body.__new__(Body)
body.model = FixedOutputs()
detector = OpenposeDetector(body)
canvas_image = np.zeros((512, 768, 3), dtype=np.uint8)
candidate, subset = body(canvas_image[:, :, ::-1].copy())
detected = detector(canvas_image, detect_resolution=512, image_resolution=512, output_type="np")
out["decode.pafs"] = fixed_pafs.numpy()
out["decode.heatmaps"] = fixed_heatmaps.numpy()
out["decode.candidate"] = np.asarray(candidate, dtype=np.float64)
out["decode.subset"] = np.asarray(subset, dtype=np.float64)
cv2.imwrite(str(HERE / "decode_map.png"), cv2.cvtColor(detected, cv2.COLOR_RGB2BGR))
print("decode", len(candidate), "peaks;", len(subset), "people, parts", subset[:, 19] if len(subset) else None,
      "map", detected.shape, (detected.sum(axis=2) > 0).mean())
save_file(out, str(HERE / "pose.safetensors"))

# 3. Drawing alone, at the borders: draw_bodypose with keypoints placed so that limbs' ellipses
# cross every edge of a 200x150 canvas (the outline lines are clipped there by OpenCV).
from controlnet_aux.open_pose.body import Keypoint
from controlnet_aux.open_pose.util import draw_bodypose

BORDER = [(0.5, 0.02), (0.5, 0.2), (0.02, 0.2), (0.0, 0.6), (0.01, 0.99), (0.98, 0.2), (1.0, 0.55), (0.99, 0.995),
          (0.3, 0.6), (0.25, 0.9), (0.2, 1.0), (0.7, 0.6), (0.75, 0.85), (0.8, 0.999), (0.45, 0.0), (0.55, 0.0),
          (0.4, 0.01), (0.6, 0.01)]
canvas = draw_bodypose(np.zeros((150, 200, 3), dtype=np.uint8), [Keypoint(x * 200 / 200, y * 150 / 150) for x, y in BORDER])
cv2.imwrite(str(HERE / "border_map.png"), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
print("border map", (canvas.sum(axis=2) > 0).mean())
