"""Times ControlNet 1.1's seg annotator (UniformerDetector: UniFormer-S + UperNet) at 512x512 on
this CPU, and writes the same full-size network's random weights for the Swift side.

    /work/venv/bin/python Tests/Goldens/detectors/seg_benchmark.py /tmp/detector-bench <ControlNet-v1-1-nightly git dir>

Writes into the folder: upernet_global_small.safetensors (float32, the published key names and
sizes of exp/upernet_global_small/config.py, mmseg's random initialization: the speed does not
depend on the values) and image.rgb (512x512x3 uint8, the astronaut photo, as benchmark.py
writes it), then prints the median and best of five annotator calls (inference_segmentor and
show_result_pyplot, as UniformerDetector.__call__ runs them, on the CPU) with torch's default
thread count and with one thread. DETECTOR_BENCH=<folder> swift test --filter DetectorSpeedTests
times the Swift detector on the same files.
"""
import os
import sys

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmark import timed  # noqa: E402
from seeded import sample_photo  # noqa: E402
from seg import load_annotator  # noqa: E402

from controlnet_aux.util import resize_image  # noqa: E402


def main(folder, repository):
    config = load_annotator(repository)
    from annotator.uniformer.mmseg.apis import inference_segmentor, init_segmentor, show_result_pyplot
    from annotator.uniformer.mmseg.core.evaluation import get_palette
    from annotator.uniformer.mmseg.datasets import ADE20KDataset

    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(0)
    image = resize_image(sample_photo("astronaut.png"), 512)
    image.tofile(os.path.join(folder, "image.rgb"))
    model = init_segmentor(config, None, device="cpu")
    model.CLASSES, model.PALETTE = ADE20KDataset.CLASSES, ADE20KDataset.PALETTE
    save_file({k: v.contiguous() for k, v in model.state_dict().items() if v.is_floating_point()},
              os.path.join(folder, "upernet_global_small.safetensors"))
    print(f"CPU: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
    for threads in [torch.get_num_threads(), 1]:
        torch.set_num_threads(threads)
        call = lambda: show_result_pyplot(model, image, inference_segmentor(model, image), get_palette("ade"), opacity=1)
        call()
        median, best = timed(call, 5)
        print(f"seg 512x512, torch {torch.__version__}, {threads} threads: median {median:.3f} s, best {best:.3f} s")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
