"""Goldens of LineartDetector: controlnet_aux 0.0.10's LineartDetector with two tiny random
Generators, its own class (Generator(3, 1, 3): the published sk_model.pth's structure) with the
submodules rebuilt from the same layer classes at fewer channels, so the key names are the
published ones and only the shapes shrink (the Swift network reads its sizes from the weights):
  lineart_tiny.pth   (the default model, sk_model.pth's place):  channels 4, 8, 16
  lineart2_tiny.pth  (the coarse model, sk_model2.pth's place):  channels 4, 8, 8
Random weights rounded to float16 values and saved float32 with torch.save (the pickle path).

Run from the repository root with the pinned venv (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/detectors/lineart.py
Writes the two .pth files and lineart.safetensors:
  "astronaut.line"   the default network's output [h, w] float32 for the astronaut photo through
                     resize_image(image, 128) (the network alone, small enough to commit);
  "<image>.map"      the detector's map (detect_resolution 512, image_resolution the image's short
                     side, so it comes back at the image's size), [h, w] uint8 (the three equal
                     channels as one), for the three photos of common.py;
  "<image>.coarse"   the same with coarse=True, for the astronaut.
"""
import numpy as np
import torch
import torch.nn as nn
from controlnet_aux.lineart import Generator, LineartDetector, ResidualBlock
from controlnet_aux.util import resize_image
from safetensors.numpy import save_file

from common import HERE, images, randomize


def tiny_generator(c0, c1, c2, seed):
    """Generator(3, 1, 3) with 64/128/256 channels replaced by c0/c1/c2, layer for layer."""
    net = Generator(3, 1, 3)
    norm = nn.InstanceNorm2d
    net.model0 = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(3, c0, 7), norm(c0), nn.ReLU(inplace=True))
    net.model1 = nn.Sequential(nn.Conv2d(c0, c1, 3, stride=2, padding=1), norm(c1), nn.ReLU(inplace=True),
                               nn.Conv2d(c1, c2, 3, stride=2, padding=1), norm(c2), nn.ReLU(inplace=True))
    net.model2 = nn.Sequential(*[ResidualBlock(c2) for _ in range(3)])
    net.model3 = nn.Sequential(nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), norm(c1), nn.ReLU(inplace=True),
                               nn.ConvTranspose2d(c1, c0, 3, stride=2, padding=1, output_padding=1), norm(c0), nn.ReLU(inplace=True))
    net.model4 = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(c0, 1, 7), nn.Sigmoid())
    # Instance norms keep every layer's activations of order 1; the last convolution is scaled
    # so the sigmoid spreads over most of 0...1 (a map with grey levels, not only black and white).
    randomize(net, seed, lambda name: 2.5 if name.startswith("model4") else 1.5)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    return net.float().eval()


model, coarse = tiny_generator(4, 8, 16, 19), tiny_generator(4, 8, 8, 20)
torch.save(model.state_dict(), HERE / "lineart_tiny.pth")
torch.save(coarse.state_dict(), HERE / "lineart2_tiny.pth")
detector = LineartDetector(model, coarse)

out = {}
for name, image in images().items():
    h, w, _ = image.shape
    if name == "astronaut":
        with torch.no_grad():
            x = torch.from_numpy(resize_image(image, 128)).float() / 255.0
            out[f"{name}.line"] = model(x.permute(2, 0, 1)[None])[0, 0].numpy().copy()
        out[f"{name}.coarse"] = detector(image, coarse=True, detect_resolution=512, image_resolution=min(h, w), output_type="np")[:, :, 0].copy()
    out[f"{name}.map"] = detector(image, detect_resolution=512, image_resolution=min(h, w), output_type="np")[:, :, 0].copy()
    m = out[f"{name}.map"]
    print(name, m.shape, "map mean", m.mean(), "std", m.std(), "levels", len(np.unique(m)))
print("line range", out["astronaut.line"].min(), out["astronaut.line"].max())
save_file(out, str(HERE / "lineart.safetensors"))
