"""Times controlnet_aux's depth (MidasDetector, DPT-Hybrid) and lines (MLSDdetector) at 512x512
on this CPU, and writes the same full-size networks' random weights for the Swift side.

    /work/venv/bin/python Tests/Goldens/detectors/benchmark.py /tmp/detector-bench

Writes into the folder: dpt_hybrid-midas-501f0c75.safetensors and mlsd_large_512_fp32.safetensors
(float32, the published key names and sizes, random weights: the speed does not depend on the
values) and image.rgb (512x512x3 uint8, the astronaut photo), then prints the median and best of
the detectors' calls (detect_resolution 512, so resize_image leaves the image as it is) with
torch's default thread count and with one thread. Tests/DiffusionDetectorsTests/DetectorSpeedTests.swift
times the Swift detectors on the same files (DETECTOR_BENCH=<folder>).
"""
import os
import sys
import time

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded import sample_photo  # noqa: E402

from controlnet_aux.midas import MidasDetector  # noqa: E402
from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel  # noqa: E402
from controlnet_aux.mlsd import MLSDdetector  # noqa: E402
from controlnet_aux.mlsd.models.mbv2_mlsd_large import MobileV2_MLSD_Large  # noqa: E402
from controlnet_aux.util import resize_image  # noqa: E402


def timed(call, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return np.median(times), min(times)


def main(folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    image = resize_image(sample_photo("astronaut.png"), 512)
    image.tofile(os.path.join(folder, "image.rgb"))
    depth_model = DPTDepthModel(path=None, backbone="vitb_rn50_384", non_negative=True).eval()
    with torch.no_grad():
        depth_model.scratch.output_conv[4].bias.fill_(0.5)
    lines_model = MobileV2_MLSD_Large().eval()
    save_file({k: v.contiguous() for k, v in depth_model.state_dict().items()},
              os.path.join(folder, "dpt_hybrid-midas-501f0c75.safetensors"))
    save_file({k: v.contiguous() for k, v in lines_model.state_dict().items() if v.is_floating_point()},
              os.path.join(folder, "mlsd_large_512_fp32.safetensors"))
    depth, lines = MidasDetector(depth_model), MLSDdetector(lines_model)
    print(f"CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    for threads in [torch.get_num_threads(), 1]:
        torch.set_num_threads(threads)
        for name, detector in [("depth", depth), ("lines", lines)]:
            call = lambda: detector(image, detect_resolution=512, image_resolution=512, output_type="np")
            call()
            median, best = timed(call, 5)
            print(f"{name} 512x512, torch {torch.__version__}, {threads} threads: median {median:.3f} s, best {best:.3f} s")


if __name__ == "__main__":
    main(sys.argv[1])
