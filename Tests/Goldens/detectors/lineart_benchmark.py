"""Times controlnet_aux's LineartDetector at 512x512 on this CPU, and writes the same full-size
network's random weights for the Swift side.

    /work/venv/bin/python Tests/Goldens/detectors/lineart_benchmark.py /tmp/lineart-bench

Writes into the folder: sk_model.pth (Generator(3, 1, 3) as controlnet_aux builds it, torch's
default random initialization, saved with torch.save under the published name: the speed does not
depend on the values) and image.rgb (512x512x3 uint8, the astronaut photo), then prints the median
and best of 5 detector calls (detect_resolution 512, so resize_image leaves the image as it is)
with torch's default thread count and with one thread.
Tests/DiffusionDetectorsTests/LineartSpeedTests.swift times the Swift detector on the same files
(LINEART_BENCH=<folder>).
"""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded import sample_photo  # noqa: E402

from controlnet_aux.lineart import Generator, LineartDetector  # noqa: E402
from controlnet_aux.util import resize_image  # noqa: E402


def main(folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    image = resize_image(sample_photo("astronaut.png"), 512)
    image.tofile(os.path.join(folder, "image.rgb"))
    model = Generator(3, 1, 3).eval()
    torch.save(model.state_dict(), os.path.join(folder, "sk_model.pth"))
    detector = LineartDetector(model, model)
    print(f"CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    for threads in [torch.get_num_threads(), 1]:
        torch.set_num_threads(threads)
        call = lambda: detector(image, detect_resolution=512, image_resolution=512, output_type="np")
        call()
        times = []
        for _ in range(5):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        print(f"lineart 512x512, torch {torch.__version__}, {threads} threads: "
              f"median {np.median(times):.3f} s, best {min(times):.3f} s")


if __name__ == "__main__":
    main(sys.argv[1])
