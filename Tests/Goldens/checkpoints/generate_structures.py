"""Writes checkpoints whose containers torch.save can write but a plain state dict does not have,
for TorchCheckpointTests:

- state_py2.pt: a state dict pickled as Python 2 pickled an OrderedDict, `OrderedDict([[key,
  value], ...])` (one argument, the items as a list of pairs), in the legacy form torch before
  1.0 wrote from Python 2: "weight" float32 [2] = 1 2 and "bias" float32 [1] = -3, with an
  integer key 7 holding float32 [1] = 0.25 (read as "7").
- recursive.pt: a dict that holds itself under "self" beside a tensor: refused, not flattened
  forever.
- recursive_state_dict.pt: a dict whose "state_dict" is itself: refused, not descended into forever.
- shared.pt: one dict of tensors under both "a" and "b": refused (each tensor would have two names).
- deep.pt: a tensor under 65 nested dicts ("d.d. ... .w"): refused, the reader's limit being 64.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/checkpoints/generate_structures.py
"""
import collections
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class Python2OrderedDict:
    """Pickles as Python 2.7's OrderedDict.__reduce__ did: (OrderedDict, (items,))."""

    def __init__(self, items):
        self.items = items

    def __reduce_ex__(self, protocol):
        return collections.OrderedDict, ([[k, v] for k, v in self.items],)


items = [("weight", torch.tensor([1.0, 2.0])), ("bias", torch.tensor([-3.0])), (7, torch.tensor([0.25]))]
torch.save(Python2OrderedDict(items), os.path.join(HERE, "state_py2.pt"), _use_new_zipfile_serialization=False)
loaded = torch.load(os.path.join(HERE, "state_py2.pt"), weights_only=True)
assert list(loaded) == ["weight", "bias", 7] and all(torch.equal(loaded[k], v) for k, v in items)

recursive = {"weight": torch.tensor([1.0])}
recursive["self"] = recursive
torch.save(recursive, os.path.join(HERE, "recursive.pt"))
assert torch.load(os.path.join(HERE, "recursive.pt"), weights_only=True)["self"]["self"]["weight"][0] == 1

looping = {"weight": torch.tensor([1.0])}
looping["state_dict"] = looping
torch.save(looping, os.path.join(HERE, "recursive_state_dict.pt"))

inner = {"weight": torch.tensor([1.0])}
torch.save({"a": inner, "b": inner}, os.path.join(HERE, "shared.pt"))
deep = {"w": torch.tensor([1.0])}
for _ in range(65):
    deep = {"d": deep}
torch.save(deep, os.path.join(HERE, "deep.pt"))
print("wrote state_py2.pt, recursive.pt, recursive_state_dict.pt, shared.pt, deep.pt")
