"""Fixtures and goldens for TrainedModelTests: the trained tiny model of Weights/Training (the default models of Weights/).

    /work/venv/bin/python Tests/Goldens/trained/generate.py                 # fixtures + golden
    /work/venv/bin/python Tests/Goldens/trained/generate.py --measure       # ... and the measures on diffusers' images
    /work/venv/bin/python Tests/Goldens/trained/generate.py --measure-only --models Tests/Fixtures/Weights --model-id tiny-sd15

Writes Tests/Goldens/trained/:
- cases.json: the seeds, prompts and images of the three behaviour measures (see `measures`);
- controls/<i>.png: canny edge maps (cv2.Canny 100/200) of procedural scenes, references/<name>.png;
- golden/expected_<i>.png: diffusers' images for the golden request (ControlNet + IP-Adapter, PNDM).

With --measure, prints the measures computed on diffusers' images, the same way the Swift test computes
them on the runtime's (a cross-check of the test's arithmetic; about ten minutes on a loaded 2-core machine).
"""
import argparse
import json
import random
import sys
from pathlib import Path

import cv2
import numpy as np
import torch
from diffusers import ControlNetModel, StableDiffusionControlNetPipeline
from PIL import Image
from transformers import CLIPImageProcessorPil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "Weights" / "Training"))
from train import COLORS, SHAPES, Scene, canny  # noqa: E402

SEEDS = 24
STEPS = 20
GUIDANCE = 5.0


def scenes():
    """Fixed scenes for the edge measure: seed i's scene comes from random.Random(f"test:{i}")."""
    return [Scene(random.Random(f"test:{i}")) for i in range(SEEDS)]


def reference(color, background="white"):
    """A reference: three shapes of one colour (a palette and nothing else to copy)."""
    rng = random.Random(f"reference:{color}")
    scene = Scene(rng)
    scene.background = background
    scene.items = [(shape, color, x, y, 9, 0.3) for shape, x, y in (("circle", 18, 18), ("star", 46, 22), ("square", 30, 46))]
    return scene.image()


def write_fixtures():
    (HERE / "controls").mkdir(parents=True, exist_ok=True)
    (HERE / "references").mkdir(parents=True, exist_ok=True)
    edges = []
    for i, scene in enumerate(scenes()):
        Image.fromarray(canny(scene.image())).save(HERE / "controls" / f"{i:02d}.png")
        edges.append({"seed": i, "prompt": scene.caption(), "control": f"controls/{i:02d}.png"})
    names = list(COLORS)
    colors = [{"seed": 100 + i, "prompt": f"a {names[i % len(names)]} {SHAPES[i // len(names) % 4]}",
               "color": names[i % len(names)]} for i in range(SEEDS)]
    for name in names:
        reference(name).save(HERE / "references" / f"{name}.png")
    palette = [{"seed": 200 + i, "prompt": f"a {SHAPES[i % 4]}", "reference": f"references/{names[i % len(names)]}.png",
                "color": names[i % len(names)]} for i in range(SEEDS)]
    cases = {"steps": STEPS, "guidance": GUIDANCE, "palette": {k: list(v) for k, v in COLORS.items()},
             "edges": edges, "colors": colors, "references": palette}
    (HERE / "cases.json").write_text(json.dumps(cases, indent=1) + "\n")
    return cases


def pipeline(models, model_id):
    net = ControlNetModel.from_pretrained(models / "controlnets" / "sd-1_5" / "canny", torch_dtype=torch.float32)
    pipe = StableDiffusionControlNetPipeline.from_pretrained(models / model_id, controlnet=net, torch_dtype=torch.float32,
                                                             safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    pipe.load_ip_adapter(str(models / "ip-adapters" / "sd-1_5" / "style"), subfolder="",
                         weight_name="ip-adapter.safetensors")
    size = pipe.image_encoder.config.image_size
    pipe.feature_extractor = CLIPImageProcessorPil(size=size, crop_size=size)
    return pipe


def generate(pipe, prompt, seed, control=None, reference=None, scale=1.0, steps=STEPS, n=1):
    """One image; no control is a black control image at scale 0, no reference an adapter scale of 0
    (what the runtime does without them: the same numbers as the plain pipeline)."""
    pipe.set_ip_adapter_scale(scale if reference is not None else 0.0)
    with torch.no_grad():
        return pipe(prompt=prompt, image=control if control is not None else Image.new("RGB", (64, 64)),
                    controlnet_conditioning_scale=1.0 if control is not None else 0.0,
                    ip_adapter_image=reference if reference is not None else Image.new("RGB", (64, 64)),
                    num_inference_steps=steps, guidance_scale=GUIDANCE, width=64, height=64, num_images_per_prompt=n,
                    generator=[torch.Generator("cpu").manual_seed(seed + i) for i in range(n)]).images


# ------------------------------------------------------------------ the measures (TrainedModelTests computes the same)

def near(edges, radius=1):
    """Pixels within `radius` (Chebyshev) of an edge pixel."""
    return cv2.dilate((edges > 0).astype(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8)) > 0


def overlap(output, control):
    """The share of the output's canny edge pixels that lie within one pixel of a control edge."""
    edges = cv2.Canny(np.asarray(output), 100, 200) > 0
    return float(edges[near(np.asarray(control)[:, :, 0])].sum() / max(1, edges.sum()))


def dominant(image, palette):
    """The palette colour nearest to most saturated pixels (max - min channel > 60), or None."""
    pixels = np.asarray(image).reshape(-1, 3).astype(np.int32)
    pixels = pixels[pixels.max(1) - pixels.min(1) > 60]
    if len(pixels) == 0:
        return None
    names = sorted(palette)
    centers = np.array([palette[n] for n in names])
    nearest = ((pixels[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
    return names[np.bincount(nearest, minlength=len(names)).argmax()]


def measures(pipe, cases):
    palette = {k: tuple(v) for k, v in cases["palette"].items()}
    controls = [Image.open(HERE / c["control"]).convert("RGB") for c in cases["edges"]]
    own, shuffled = [], []
    for i, c in enumerate(cases["edges"]):
        image = generate(pipe, c["prompt"], c["seed"], control=controls[i])[0]
        own.append(overlap(image, controls[i]))
        shuffled.append(overlap(image, controls[(i + 1) % len(controls)]))
    print(f"edges: mean overlap own {np.mean(own):.3f} shuffled {np.mean(shuffled):.3f}; "
          f"own > shuffled in {sum(a > b for a, b in zip(own, shuffled))}/{len(own)}")
    hits = [dominant(generate(pipe, c["prompt"], c["seed"])[0], palette) == c["color"] for c in cases["colors"]]
    print(f"colors: prompt colour dominant in {sum(hits)}/{len(hits)}")
    pulled, plain_hits = [], []
    for c in cases["references"]:
        ref = Image.open(HERE / c["reference"]).convert("RGB")
        pulled.append(dominant(generate(pipe, c["prompt"], c["seed"], reference=ref)[0], palette) == c["color"])
        plain_hits.append(dominant(generate(pipe, c["prompt"], c["seed"])[0], palette) == c["color"])
    print(f"references: reference colour dominant in {sum(pulled)}/{len(pulled)} "
          f"(without the reference: {sum(plain_hits)}/{len(plain_hits)})")


def write_golden(pipe, cases):
    folder = HERE / "golden"
    folder.mkdir(exist_ok=True)
    c = cases["edges"][0]
    control = Image.open(HERE / c["control"]).convert("RGB")
    ref = Image.open(HERE / cases["references"][0]["reference"]).convert("RGB")
    images = generate(pipe, c["prompt"], 42, control=control, reference=ref, scale=0.8, steps=10, n=2)
    for i, image in enumerate(images):
        image.save(folder / f"expected_{i}.png")
    golden = {"prompt": c["prompt"], "control": c["control"], "reference": cases["references"][0]["reference"],
              "ipAdapterScale": 0.8, "seed": 42, "steps": 10, "guidance": GUIDANCE, "numSamples": 2}
    (folder / "request.json").write_text(json.dumps(golden, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=Path, default=ROOT / "Weights")
    parser.add_argument("--model-id", default="shapes-sd15")
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = json.loads((HERE / "cases.json").read_text()) if args.measure_only else write_fixtures()
    pipe = pipeline(args.models, args.model_id)
    if not args.measure_only:
        write_golden(pipe, cases)
    if args.measure or args.measure_only:
        measures(pipe, cases)


if __name__ == "__main__":
    main()
