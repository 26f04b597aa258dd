"""Times controlnet_aux's pose and scribble detectors (PyTorch, CPU) at 512x512 and writes the
full-size random-weight networks for the Swift side of the comparison.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Benchmarks/detectors/benchmark.py /tmp/detector-bench
then time the Swift detectors on the same files and image:
    swift run -c release diffuse-bench detectors --models /tmp/detector-bench --image /tmp/detector-bench/astronaut.png

The networks have the published architectures and file names with seeded random weights (the
speed does not depend on the values; the published files cannot be downloaded here). The image
is scikit-image's astronaut, 512x512. Torch runs on as many threads as the machine has cores.
"""
import os
import sys
import time

import cv2
import numpy as np
import torch
from controlnet_aux.hed import ControlNetHED_Apache2, HEDdetector
from controlnet_aux.open_pose import OpenposeDetector
from controlnet_aux.open_pose.body import Body
from controlnet_aux.open_pose.model import bodypose_model
from skimage import data

REPEATS = 3


def best_of(fn):
    fn()  # warm-up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    out = sys.argv[1]
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count())
    image = data.astronaut()
    os.makedirs(os.path.join(out, "detectors/pose"), exist_ok=True)
    os.makedirs(os.path.join(out, "detectors/scribble"), exist_ok=True)
    cv2.imwrite(os.path.join(out, "astronaut.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))

    model = bodypose_model().eval()
    torch.save({k.split(".", 1)[1]: v for k, v in model.state_dict().items()}, os.path.join(out, "detectors/pose/body_pose_model.pth"))
    body = Body.__new__(Body)
    body.model = model
    pose = OpenposeDetector(body)

    hed_net = ControlNetHED_Apache2().float().eval()
    torch.save(hed_net.state_dict(), os.path.join(out, "detectors/scribble/ControlNetHED.pth"))
    hed = HEDdetector(hed_net)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, image {image.shape[1]}x{image.shape[0]}")
    with torch.no_grad():
        print(f"pose (OpenposeDetector, body only): {best_of(lambda: pose(image, 512, 512)):.3f} s")
        print(f"scribble (HEDdetector, scribble=True): {best_of(lambda: hed(image, 512, 512, scribble=True)):.3f} s")


if __name__ == "__main__":
    main()
