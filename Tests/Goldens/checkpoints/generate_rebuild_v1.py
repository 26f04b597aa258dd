"""Writes state_rebuild_v1.pt: tensors pickled as torch before 0.4 pickled them,
`torch._utils._rebuild_tensor(storage, storage_offset, size, stride)` (no requires_grad or
hooks), in the legacy serialization those versions wrote. Old checkpoints still published
(converted Caffe and Torch7 models) may be in this form; torch's own weights_only loader reads it.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_rebuild_v1.py

The state dict: "weight", float32 [2, 3] = 0 1 2 / 3 4 5; "weight_t", its transpose (a strided
view of the same storage); "bias", float16 [3] = 0.5 -1 2 at storage offset 1 of [9, 0.5, -1, 2].
"""
import collections
import os
import warnings

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class V1Tensor:
    """Pickles as torch < 0.4 pickled a tensor."""

    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, protocol):
        t = self.tensor
        return torch._utils._rebuild_tensor, (t.storage(), t.storage_offset(), tuple(t.size()), t.stride())


warnings.simplefilter("ignore")  # TypedStorage is deprecated; it is what the old pickles hold
weight = torch.arange(6, dtype=torch.float32).reshape(2, 3)
bias = torch.tensor([9, 0.5, -1, 2], dtype=torch.float16)[1:]
state = collections.OrderedDict([("weight", V1Tensor(weight)), ("weight_t", V1Tensor(weight.t())), ("bias", V1Tensor(bias))])
path = os.path.join(HERE, "state_rebuild_v1.pt")
torch.save(state, path, _use_new_zipfile_serialization=False)

loaded = torch.load(path, weights_only=True)
assert torch.equal(loaded["weight"], weight) and torch.equal(loaded["weight_t"], weight.t())
assert torch.equal(loaded["bias"], bias) and loaded["bias"].storage_offset() == 1
assert b"_rebuild_tensor\n" in open(path, "rb").read()
print("wrote", path)
