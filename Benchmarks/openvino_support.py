"""What the benchmarks' OpenVINO side shares (PyPI `openvino`, imported only when used; issue 20).

A PyTorch model is converted with `openvino.convert_model` at static shapes and saved as IR (float32
weights, `compress_to_fp16=False`) under /tmp by a child process, which then exits; the timing process
reads the IR and compiles it for the CPU with `INFERENCE_PRECISION_HINT` f32 on the benchmark's threads.
Converting in a child keeps the PyTorch model out of the timed process's memory (SDXL's UNet is 10 GB in
float32): `peak_rss_bytes` is then the compiled model's process, and `convert_peak_rss_bytes` the child's.
"""
import os
import resource
import shutil
import subprocess
import sys
import tempfile

import torch

CONVERT_FLAG = "--convert-to"


class Denoiser(torch.nn.Module):
    """One UNet forward after its ControlNet's, on positional tensors (what the conversion traces):
    sample, timestep, context, then the control image when there is a ControlNet, then the UNet's added
    conditions named by `added` (SDXL's text_embeds and time_ids, or one IP-Adapter's image_embeds).
    The ControlNet's residuals are scaled by `conditioning_scale`, as diffusers' pipelines do."""

    def __init__(self, unet, controlnet=None, added=(), conditioning_scale=1.0):
        super().__init__()
        self.unet, self.controlnet = unet, controlnet
        self.added, self.conditioning_scale = tuple(added), conditioning_scale

    def forward(self, sample, timestep, context, *rest):
        control, rest = (rest[0], rest[1:]) if self.controlnet is not None else (None, rest)
        added = dict(zip(self.added, rest))
        if "image_embeds" in added:
            added["image_embeds"] = [added["image_embeds"]]  # one IP-Adapter's
        kwargs = {"added_cond_kwargs": added} if added else {}
        residuals = {}
        if control is not None:
            down, mid = self.controlnet(sample, timestep, context, controlnet_cond=control,
                                        conditioning_scale=self.conditioning_scale, return_dict=False, **kwargs)
            residuals = {"down_block_additional_residuals": down, "mid_block_additional_residual": mid}
        return self.unet(sample, timestep, context, **kwargs, **residuals, return_dict=False)[0]


def version():
    import openvino

    return f"openvino {openvino.__version__}"


def save(module, inputs, path, example=None):
    """Converts `module` at the shapes of the tensors `inputs` and saves it as IR at `path` (a .xml beside
    its .bin) with float32 weights. The trace runs on `example` when given: the same inputs at a smaller
    size, since the converter holds on to a full-size trace's activations (SDXL's at 1024x1024 took the
    conversion past 22 GiB); the IR is then fixed to the full shapes, which OpenVINO propagates."""
    import openvino

    with torch.no_grad():
        model = openvino.convert_model(module, example_input=tuple(example or inputs),
                                       input=[tuple(x.shape) for x in inputs])
    openvino.save_model(model, path, compress_to_fp16=False)


def compile(path, threads):
    """The IR at `path` compiled for the CPU in float32 on `threads` threads, latency first."""
    import openvino

    return openvino.Core().compile_model(path, "CPU", {
        "INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": str(threads), "PERFORMANCE_HINT": "LATENCY"})


class ConvertedModels:
    """A temporary folder under /tmp that this script, run again with `--convert-to FOLDER`, fills with IR
    in a child process; deleted on exit. `peak_rss_bytes` is then the child's peak resident memory."""

    def __enter__(self):
        self.folder = tempfile.mkdtemp(prefix="diffuse-openvino-", dir="/tmp")
        subprocess.run([sys.executable] + sys.argv + [CONVERT_FLAG, self.folder], check=True)
        self.peak_rss_bytes = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        return self

    def path(self, name):
        return os.path.join(self.folder, f"{name}.xml")

    def __exit__(self, *_):
        shutil.rmtree(self.folder, ignore_errors=True)
