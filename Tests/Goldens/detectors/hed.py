"""Goldens of HEDDetector: controlnet_aux 0.0.10's HEDdetector with a tiny random
ControlNetHED_Apache2 (channels 4, 8, 8, 8, 8 for 64, 128, 256, 512, 512: the Swift network reads
its sizes from the weights).

Run from the repository root with the pinned venv (Tests/Goldens/requirements.txt):
    ../venv/bin/python Tests/Goldens/detectors/hed.py
Writes hed_tiny.pth (the weights, under the published key names), <image>.png (inputs) and
hed.safetensors: "astronaut.projections.<i>" (the network's outputs 1 to 4, HW float32), per image
"<image>.edges" (scribble=False) and "<image>.scribble" (scribble=True), HW uint8 (the maps'
three equal channels as one), with
detect_resolution 512 and image_resolution the image's short side.
"""
import torch
from controlnet_aux.hed import ControlNetHED_Apache2, DoubleConvBlock, HEDdetector
from controlnet_aux.util import resize_image
from safetensors.numpy import save_file

from common import HERE, images, randomize

net = ControlNetHED_Apache2()
for i, (cin, cout, layers) in enumerate([(3, 4, 2), (4, 8, 2), (8, 8, 3), (8, 8, 3), (8, 8, 3)]):
    setattr(net, f"block{i + 1}", DoubleConvBlock(cin, cout, layers))
# The input is 0...255: the first convolution is scaled down so its outputs are of order 1.
randomize(net, 18, lambda name: 1 / 128 if name.startswith("block1.convs.0") else 8 if "projection" in name else 1.5)
with torch.no_grad():
    net.norm.copy_(torch.tensor([124.0, 116.0, 104.0]).view(1, 3, 1, 1))
    # Most of the map below 0.5 after the sigmoid, so the scribble keeps only the strongest ridges.
    for i in range(1, 6):
        getattr(net, f"block{i}").projection.bias.fill_(-1.2)
net.float().eval()
torch.save(net.state_dict(), HERE / "hed_tiny.pth")

detector = HEDdetector(net)
out = {}
for name, image in images().items():
    h, w, _ = image.shape
    with torch.no_grad():
        x = torch.from_numpy(resize_image(image, 512).copy()).float().permute(2, 0, 1)[None]
        # The network's own outputs for one image; the smallest four keep the file small.
        if name == "astronaut":
            for i, p in list(enumerate(net(x)))[1:]:
                out[f"{name}.projections.{i}"] = p[0, 0].numpy().copy()
    # The maps' three channels are equal (HWC3 of one): one is kept.
    out[f"{name}.edges"] = detector(image, 512, min(h, w), output_type="np")[:, :, 0].copy()
    out[f"{name}.scribble"] = detector(image, 512, min(h, w), scribble=True, output_type="np")[:, :, 0].copy()
    e = out[f"{name}.edges"]
    print(name, e.shape, "edges mean", e.mean(), "std", e.std(), "scribble white", (out[f"{name}.scribble"] > 0).mean())
save_file(out, str(HERE / "hed.safetensors"))
