"""Writes the DiffusionSchedulers golden fixtures.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/schedulers/generate.py
Python floats are exact doubles, so float32 values survive the JSON round trip unchanged.
"""
import hashlib
import json
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIGS = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "scheduler-configs")


def write(name, payload):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")


def fnv1a64_of_float_bits(values):
    """FNV-1a over the little-endian float32 bit patterns: an exact, compact digest."""
    h = 0xCBF29CE484222325
    for b in np.asarray(values, dtype=np.float32).tobytes():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


# ---------------------------------------------------------------- random source

RNG_CASES = [
    # (seed, successive randn sizes drawn from one generator)
    (0, [1]), (0, [7]), (0, [15]), (0, [16]), (0, [17]), (0, [31]), (0, [100]),
    (0, [4 * 64 * 64]), (42, [4 * 64 * 64]), (1, [1, 1, 1]), (2, [3, 20]), (3, [7, 7, 16, 1]),
    (4, [17, 5, 33]), (5, [5]), (2**32 + 5, [20]), (2**63 + 12345, [31, 3]),
    (2**64 - 1, [16, 15]), (123456789012345, [100, 1, 100]), (7, [4 * 8 * 8, 4 * 8 * 8]),
    (8, [1, 4 * 64 * 64, 5]), (9, [48]), (10, [624, 1]),
]


def rng_case(seed, sizes):
    g = torch.Generator("cpu").manual_seed(seed)
    draws = []
    for n in sizes:
        values = torch.randn(n, generator=g, dtype=torch.float32).tolist()
        if n <= 128:
            draws.append({"count": n, "values": values})
        else:
            draws.append({"count": n, "head": values[:16], "tail": values[-16:],
                          "fnv1a64": fnv1a64_of_float_bits(values)})
    return {"seed": str(seed), "draws": draws}


def random_goldens():
    write("random.json", {"torch": torch.__version__,
                          "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                          "cases": [rng_case(s, n) for s, n in RNG_CASES]})


if __name__ == "__main__":
    torch.set_num_threads(1)
    random_goldens()
