"""End-to-end goldens for `concepts` (LoRA): the canny request of generate.py with LoRAs loaded by
diffusers' load_lora_weights + set_adapters, on the tiny SD1.5 and SDXL models and the LoRA
fixtures of Tests/Goldens/lora (run lora/generate.py first).

    ../venv/bin/python Tests/Goldens/pipeline/concepts.py

Writes Tests/Goldens/pipeline/concepts/<name>/request.json and expected_<i>.png; the Swift test
puts the LoRA files in a models directory's loras/<family>/ under the ids the requests name.
"""
import json
import shutil
from pathlib import Path

import generate
from diffusers import LCMScheduler

HERE = Path(__file__).resolve().parent
OUT = HERE / "concepts"
LORAS = HERE.parent / "lora"


def two_loras(pipe):
    pipe.load_lora_weights(str(LORAS), weight_name="kohya.safetensors", adapter_name="kohya")
    pipe.load_lora_weights(str(LORAS), weight_name="peft.safetensors", adapter_name="peft")
    pipe.set_adapters(["kohya", "peft"], adapter_weights=[0.8, -0.5])


def sdxl_kohya(pipe):
    pipe.load_lora_weights(str(LORAS), weight_name="sdxl_kohya.safetensors", adapter_name="sdxl")
    pipe.set_adapters(["sdxl"], adapter_weights=[0.7])


def lcm(pipe):
    pipe.load_lora_weights(str(LORAS), weight_name="lcm_shaped.safetensors", adapter_name="lcm")
    pipe.set_adapters(["lcm"], adapter_weights=[1.0])


CASES = [
    ("sdxl_kohya_sgm", "sd-xl", dict(modality="canny", seed="3", numSamples=1, numInferenceSteps=3, width=512, height=512,
                                    concepts=[{"modelId": "sdxl_kohya", "scale": 0.7}]), sdxl_kohya),
    ("kohya_and_peft", "sd-1_5", dict(modality="canny", seed="42", numSamples=1, numInferenceSteps=5,
                            concepts=[{"modelId": "kohya", "scale": 0.8}, {"modelId": "peft", "scale": -0.5}]), two_loras),
    ("lcm_four_steps", "sd-1_5", dict(modality="canny", seed="8", numSamples=1, numInferenceSteps=4, guidance=1.0,
                            scheduler="LCMScheduler", concepts=[{"modelId": "lcm_shaped", "scale": 1.0}]), lcm),
]


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for name, family, fields, prepare in CASES:
        _, family, body = generate.case(name, family, **fields)
        folder = OUT / name
        folder.mkdir(parents=True)
        (folder / "request.json").write_text(json.dumps(body, indent=1) + "\n")
        for i, image in enumerate(generate.run(body, family, prepare)):
            image.save(folder / f"expected_{i}.png")
        print(name)


if __name__ == "__main__":
    main()
