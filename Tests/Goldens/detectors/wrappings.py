"""Writes the tiny detector weights again in the wrappings the published files may have, for
DetectorWeightsWrappingTests (Docs/DETECTORS.md, "Real weight files").

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt), after
hed.py, pose.py, depth.py and seg.py:
    /work/venv/bin/python Tests/Goldens/detectors/wrappings.py

Whole networks (hed_tiny.pth's tensors, run through HEDDetector against the plain file):
    hed_legacy.pth    the state dict saved with _use_new_zipfile_serialization=False, the form
                      torch < 1.6 wrote (as old checkpoints such as body_pose_model.pth are)
    hed_training.pth  {"model": {"module.<key>": float64}, "optimizer": {...}, "iter": 7}: a
                      training checkpoint of a DataParallel model, the form NormalBae's
                      load_checkpoint (["model"], "module." stripped) and MiDaS's BaseModel.load
                      ("optimizer" present: ["model"]) unwrap; float64 holds the float32 values exactly
    hed_mmcv.pth      {"meta": {...}, "state_dict": OrderedDict("module.<key>"), "optimizer": {...}}:
                      mmcv's save_checkpoint form, which its load_checkpoint unwraps (["state_dict"],
                      "^module\\." stripped)
Each is checked here to give back the plain state dict through that loader's own unwrapping.

Each detector's file in its likeliest published form, with the first 8 tensors (of at most 4096
elements) of its tiny fixture (their names and values are compared with the plain fixture's, not run):
    pose_legacy.pth   legacy serialization, float32, a flat dict (caffemodel2pytorch's conversion)
    depth_training.pth  {"model": ..., "optimizer": ...}, MiDaS's training checkpoint form
    seg_mmcv.pth      mmcv's form with an AdamW optimizer state and "module." keys, legacy
                      serialization (mmseg's tools/publish_model.py of 2021 saved with torch.save as
                      it was, torch < 1.6 writing this form)
"""
import collections
import re

import torch

from common import HERE

torch.manual_seed(0)


def optimizer_state(tensors):
    """What optimizer.state_dict() holds for AdamW: per-parameter moments and a step, and the
    groups' hyperparameters (floats, a tuple, a bool, lists of indices)."""
    state = {i: {"step": torch.tensor(float(100)), "exp_avg": torch.randn(t.shape), "exp_avg_sq": torch.rand(t.shape)}
             for i, t in enumerate(tensors[:2])}
    groups = [{"lr": 6e-05, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0.01, "amsgrad": False,
               "params": list(range(len(tensors)))}]
    return {"state": state, "param_groups": groups}


def mmcv_meta(iteration):
    return {"mmcv_version": "1.3.0", "time": "Sun Apr 11 21:27:10 2021", "env_info": "sys.platform: linux",
            "seed": 0, "exp_name": "config.py", "config": "norm_cfg = dict(type='SyncBN', requires_grad=True)\n",
            "CLASSES": ("wall", "building"), "PALETTE": [[120, 120, 120], [180, 120, 120]],
            "epoch": 1, "iter": iteration, "hook_msgs": {"last_ckpt": "work_dirs/iter_160000.pth"}}


def strip_module(state):
    """NormalBae's load_checkpoint and mmcv's revise_keys: a leading "module." dropped."""
    return collections.OrderedDict((re.sub(r"^module\.", "", k), v) for k, v in state.items())


def same(a, b):
    assert list(a) == list(b), (list(a)[:3], list(b)[:3])
    for k in a:
        assert torch.equal(a[k].float(), b[k].float()), k


def subset(name, count=8):
    """The first `count` tensors of a fixture of at most 4096 elements (the file stays small)."""
    state = torch.load(HERE / name, weights_only=True)
    state = state.get("state_dict", state)
    return collections.OrderedDict([(k, v.float()) for k, v in state.items() if v.numel() <= 4096][:count])


hed = torch.load(HERE / "hed_tiny.pth", weights_only=True)

torch.save(hed, HERE / "hed_legacy.pth", _use_new_zipfile_serialization=False)
same(torch.load(HERE / "hed_legacy.pth", weights_only=True), hed)

training = {"model": collections.OrderedDict(("module." + k, v.double()) for k, v in hed.items()),
            "optimizer": optimizer_state(list(hed.values())), "iter": 7}
torch.save(training, HERE / "hed_training.pth")
loaded = torch.load(HERE / "hed_training.pth", weights_only=True)
assert "optimizer" in loaded
same(strip_module(loaded["model"]), hed)

mmcv = {"meta": mmcv_meta(160000),
        "state_dict": collections.OrderedDict(("module." + k, v) for k, v in hed.items()),
        "optimizer": optimizer_state(list(hed.values()))}
torch.save(mmcv, HERE / "hed_mmcv.pth")
same(strip_module(torch.load(HERE / "hed_mmcv.pth", weights_only=True)["state_dict"]), hed)

pose = subset("pose_tiny.pth")
torch.save(dict(pose), HERE / "pose_legacy.pth", _use_new_zipfile_serialization=False)
same(torch.load(HERE / "pose_legacy.pth", weights_only=True), pose)

depth = subset("depth_tiny.pt")
torch.save({"model": depth, "optimizer": optimizer_state(list(depth.values()))}, HERE / "depth_training.pth")
same(torch.load(HERE / "depth_training.pth", weights_only=True)["model"], depth)

seg = subset("seg_tiny.pth")
torch.save({"meta": mmcv_meta(160000), "state_dict": collections.OrderedDict(("module." + k, v) for k, v in seg.items()),
            "optimizer": optimizer_state(list(seg.values()))}, HERE / "seg_mmcv.pth", _use_new_zipfile_serialization=False)
same(strip_module(torch.load(HERE / "seg_mmcv.pth", weights_only=True)["state_dict"]), seg)
print("wrote", ", ".join(["hed_legacy.pth", "hed_training.pth", "hed_mmcv.pth", "pose_legacy.pth",
                          "depth_training.pth", "seg_mmcv.pth"]))
