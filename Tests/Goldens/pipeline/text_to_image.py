"""Text-to-image goldens for the typed pipeline (no ControlNet, no IP-Adapter): diffusers'
StableDiffusionPipeline / StableDiffusionXLPipeline on the tiny models, as
StableDiffusionPipelineTests reads them.

    ../venv/bin/python Tests/Goldens/pipeline/text_to_image.py

Writes Tests/Goldens/pipeline/text_to_image/<name>/expected_<i>.png and manifest.json (each case's
model folder and parameters, in GenerationParameters' names).
"""
import json
import shutil
from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

import diffusers.schedulers as schedulers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
OUT = HERE / "text_to_image"

CASES = [
    {"name": "sd15_euler", "model": "Tests/Fixtures/Weights/tiny-sd15", "prompt": "a blue square on a yellow field",
     "negativePrompt": "blurry", "width": 64, "height": 48, "steps": 5, "guidance": 7.5,
     "scheduler": "EulerDiscreteScheduler", "seed": 3, "numSamples": 2},
    {"name": "sd15_default_scheduler_no_cfg", "model": "Tests/Fixtures/Weights/tiny-sd15", "prompt": "stripes", "width": 48,
     "height": 64, "steps": 4, "guidance": 1.0, "seed": 77, "numSamples": 1},
    {"name": "sdxl_dpm", "model": "Tests/Goldens/pipeline/models/tiny-sdxl", "prompt": "a red circle",
     "width": 128, "height": 96, "steps": 3, "guidance": 6.0, "scheduler": "DPMSolverMultistepScheduler",
     "seed": 21, "numSamples": 1},
]


def run(case):
    folder = ROOT / case["model"]
    sdxl = "sdxl" in case["name"]
    extra = {} if sdxl else {"safety_checker": None, "requires_safety_checker": False}
    pipe = (StableDiffusionXLPipeline if sdxl else StableDiffusionPipeline).from_pretrained(
        folder, torch_dtype=torch.float32, **extra)
    pipe.set_progress_bar_config(disable=True)
    if "scheduler" in case:
        pipe.scheduler = getattr(schedulers, case["scheduler"]).from_config(pipe.scheduler.config)
    n = case["numSamples"]
    generators = [torch.Generator("cpu").manual_seed(case["seed"] + i) for i in range(n)]
    with torch.no_grad():
        return pipe(prompt=case["prompt"], negative_prompt=case.get("negativePrompt"),
                    num_inference_steps=case["steps"], guidance_scale=case["guidance"], width=case["width"],
                    height=case["height"], num_images_per_prompt=n, generator=generators, output_type="pil",
                    **({"eta": 0.0} if not sdxl else {})).images


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for case in CASES:
        folder = OUT / case["name"]
        folder.mkdir(parents=True)
        for i, image in enumerate(run(case)):
            image.save(folder / f"expected_{i}.png")
        print(case["name"])
    (OUT / "manifest.json").write_text(json.dumps(CASES, indent=1) + "\n")


if __name__ == "__main__":
    main()
