"""Reference outputs of ControlNetModel (both families) on the tiny ControlNets of
Tests/Goldens/pipeline/build_models.py, and of the UNet with the residuals of two ControlNets summed.

    ../venv/bin/python Tests/Goldens/controlnet/generate.py

Writes Tests/Goldens/controlnet/controlnet.safetensors; image-like tensors are NCHW (the Swift
tests permute them), every case is "<family>.<role>".
"""
from pathlib import Path

import torch
from diffusers import ControlNetModel, UNet2DConditionModel
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[3]
FAMILIES = {
    "sd15": (ROOT / "Tests" / "Fixtures" / "Weights", "tiny-sd15", "sd-1_5", ("canny", "depth")),
    "sdxl": (ROOT / "Tests/Goldens/pipeline/models", "tiny-sdxl", "sd-xl", ("canny", "depth")),
}


def main():
    torch.manual_seed(0)
    out = {}
    for name, (models, model_id, family, modalities) in FAMILIES.items():
        unet = UNet2DConditionModel.from_pretrained(models / model_id / "unet").float().eval()
        nets = [ControlNetModel.from_pretrained(models / "controlnets" / family / m).float().eval()
                for m in modalities]
        batch, h, w = 2, 8, 12
        sample = torch.randn(batch, 4, h, w)
        image = torch.rand(batch, 3, 8 * h, 8 * w)
        context = torch.randn(batch, 77, unet.config.cross_attention_dim)
        timestep = torch.tensor(537.0)
        kwargs = {}
        if unet.config.addition_embed_type == "text_time":
            kwargs["added_cond_kwargs"] = {"text_embeds": torch.randn(batch, 32),
                                           "time_ids": torch.tensor([[64.0, 96, 0, 0, 64, 96]] * batch)}
        scales = (0.7, 0.4)
        with torch.no_grad():
            results = [net(sample, timestep, context, image, conditioning_scale=s, return_dict=False, **kwargs)
                       for net, s in zip(nets, scales)]
            down = [sum(parts) for parts in zip(*(r[0] for r in results))]
            mid = sum(r[1] for r in results)
            prediction = unet(sample, timestep, context, down_block_additional_residuals=down,
                              mid_block_additional_residual=mid, **kwargs).sample
        out[f"{name}.sample"], out[f"{name}.image"], out[f"{name}.context"] = sample, image, context
        for key, value in kwargs.get("added_cond_kwargs", {}).items():
            out[f"{name}.{key}"] = value
        for i, residual in enumerate(results[0][0]):
            out[f"{name}.first.down.{i}"] = residual
        out[f"{name}.first.mid"] = results[0][1]
        out[f"{name}.unet_with_both"] = prediction
        print(name, len(results[0][0]), tuple(prediction.shape))
    save_file({k: v.contiguous() for k, v in out.items()}, Path(__file__).parent / "controlnet.safetensors")


if __name__ == "__main__":
    main()
