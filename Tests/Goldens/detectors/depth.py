"""Writes the depth (MiDaS DPT-Hybrid) golden fixtures: controlnet_aux 0.0.10's MidasDetector on a
shrunk network with random weights.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/detectors/depth.py

The network is controlnet_aux's DPTDepthModel (backbone vitb_rn50_384: timm's ResNetV2 stem and
stages under a ViT with hooks at blocks 8 and 11, readout "project", four fusion blocks, the depth
head) with every width shrunk and every structural choice kept: ResNetV2 layers (2, 2, 2) of 64
channels (bottlenecks of 32, stem 32), a ViT of 12 blocks, width 32, 2 heads, MLP 64, scratch features 16. The Swift
port reads all sizes from the state dict (the head count it is given: 2 here, 12 for the
published file). Weights are random, rounded to float16 and saved as depth_tiny.pt (torch.save,
float16, the published file's key names), which the reference runs in float32 after the same
rounding. For the first three images of seeded.images(128), depth.safetensors holds:
    <name>.input  uint8 [h, w, 3], the image after controlnet_aux's resize_image
    <name>.depth  float32 [h, w], the network's prediction before normalization
    <name>.map    uint8 [h, w], MidasDetector's 8-bit map (one channel of the three equal ones)
"""
import json
import os
import sys
from functools import partial

import numpy as np
import torch
from safetensors.numpy import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seeded import HERE, images  # noqa: E402

import controlnet_aux.midas.midas.blocks as blocks  # noqa: E402
from controlnet_aux.midas import MidasDetector  # noqa: E402
from controlnet_aux.midas.midas.dpt_depth import DPTDepthModel  # noqa: E402
from controlnet_aux.midas.midas.vit import _make_vit_b_rn50_backbone  # noqa: E402
from timm.layers import StdConv2dSame  # noqa: E402
from timm.models.resnetv2 import ResNetV2  # noqa: E402
from timm.models.vision_transformer_hybrid import _create_vision_transformer_hybrid  # noqa: E402

RESOLUTION = 128
VIT_WIDTH, HEADS, STAGE_WIDTH, FEATURES = 32, 2, 64, 16


def tiny_backbone(pretrained, hooks=None, use_vit_only=False, use_readout="ignore"):
    resnet = ResNetV2(layers=(2, 2, 2), channels=(STAGE_WIDTH,) * 3, num_classes=0, global_pool="", preact=False,
                      stem_type="same", stem_chs=32, bottle_ratio=0.5, conv_layer=partial(StdConv2dSame, eps=1e-8))
    vit = _create_vision_transformer_hybrid("vit_base_r50_s16_384", backbone=resnet, pretrained=False,
                                            embed_dim=VIT_WIDTH, depth=12, num_heads=HEADS, mlp_ratio=2)
    return _make_vit_b_rn50_backbone(vit, features=[STAGE_WIDTH, STAGE_WIDTH, VIT_WIDTH, VIT_WIDTH], size=[384, 384],
                                     hooks=hooks, vit_features=VIT_WIDTH, use_vit_only=use_vit_only,
                                     use_readout=use_readout)


def tiny_model():
    blocks._make_pretrained_vitb_rn50_384 = tiny_backbone
    make_scratch = blocks._make_scratch
    blocks._make_scratch = lambda in_shape, out_shape, **kw: make_scratch(
        [STAGE_WIDTH, STAGE_WIDTH, VIT_WIDTH, VIT_WIDTH], out_shape, **kw)
    model = DPTDepthModel(path=None, backbone="vitb_rn50_384", non_negative=True, features=FEATURES).eval()
    generator = torch.Generator().manual_seed(0)
    state = {}
    for name, tensor in model.state_dict().items():
        noise = torch.randn(tensor.shape, generator=generator)
        if tensor.ndim == 1 and ("norm" in name):  # norms: away from the identity they start at
            value = (1.0 if name.endswith("weight") else 0.0) + 0.2 * noise
        elif name.endswith("cls_token") or name.endswith("pos_embed"):
            value = 0.5 * noise
        elif tensor.ndim == 1:
            value = 0.1 * noise
        else:
            value = noise / np.sqrt(tensor[0].numel())
        state[name] = value.half()
    state["scratch.output_conv.4.bias"] = torch.tensor([0.5]).half()  # a depth above the final ReLU
    model.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    return model, state


def main():
    model, state = tiny_model()
    torch.save(state, os.path.join(HERE, "depth_tiny.pt"))
    detector = MidasDetector(model)
    tensors, summary = {}, {}
    for name, image in list(images(RESOLUTION))[:3]:
        with torch.no_grad():
            x = torch.from_numpy(image).float() / 127.5 - 1.0
            depth = model(x.permute(2, 0, 1)[None])[0].numpy()
        detected = detector(image, detect_resolution=RESOLUTION, image_resolution=RESOLUTION, output_type="np")
        assert (detected[:, :, 0] == detected[:, :, 1]).all()
        tensors[f"{name}.input"] = image
        tensors[f"{name}.depth"] = depth.astype(np.float32)
        tensors[f"{name}.map"] = np.ascontiguousarray(detected[:, :, 0])
        summary[name] = {"min": float(depth.min()), "max": float(depth.max()),
                         "levels": int(len(np.unique(detected[:, :, 0])))}
    save_file(tensors, os.path.join(HERE, "depth.safetensors"))
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
