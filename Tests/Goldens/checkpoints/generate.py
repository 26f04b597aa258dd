"""Writes the PyTorch checkpoint fixtures the safe reader (TorchCheckpoint) is tested on.

Run from the repository root with the pinned oracle (Tests/Goldens/requirements.txt):
    /work/venv/bin/python Tests/Goldens/checkpoints/generate.py

- state.pt / state_legacy.pt: the same tiny state dict saved by `torch.save`, in the zip form
  and with `_use_new_zipfile_serialization=False`, nested as A1111 checkpoints nest it
  (`{"state_dict": OrderedDict, "global_step": 5}`), with F32, F16, BF16, I64 and BOOL tensors,
  a transposed view, a strided slice at a storage offset (both sharing their base's storage),
  an `nn.Parameter`, a scalar, an empty tensor and a nested dict (`ip_adapter.1.to_k_ip.weight`).
- state_zip64.pt: state.pt with its zip directory rewritten in the ZIP64 form torch's writer uses
  past 4 GiB (every size and offset of the central directory saturated and given in the ZIP64 extra
  field, a ZIP64 end record and locator, the classic end record saturated); torch.load reads it.
- state_protocol4.pt: state.pt pickled with protocol 4 (FRAME, SHORT_BINUNICODE, MEMOIZE, STACK_GLOBAL).
- expected.safetensors: every tensor of that state dict, made contiguous, under its flattened
  name: what the reader must return, bit for bit.
- vae/diffusion_pytorch_model.bin (+ config.json): Tests/Fixtures/Weights/tiny-sd15/vae saved with `torch.save` (as
  diffusers' `save_pretrained(safe_serialization=False)` writes it), in the legacy form.
- ip-adapter.bin: Tests/Fixtures/Weights/ip-adapters/sd-1_5/style/ip-adapter.safetensors as h94/IP-Adapter publishes
  its .bin files, `{"image_proj": {...}, "ip_adapter": {...}}`.
- malicious.pt / malicious_legacy.pt: a pickle that would run `os.system` on load (torch's own
  weights_only loader refuses it too); the reader must refuse it naming the global.
"""
import collections
import os
import shutil
import struct
import zipfile

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "..", "..", "Fixtures", "Weights")


def state_dict():
    torch.manual_seed(0)
    base = torch.randn(3, 4)
    strided = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state = collections.OrderedDict()
    state["model.f32"] = torch.randn(2, 3)
    state["model.f16"] = torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0**-24, 0.1, float("inf")], dtype=torch.float16)
    state["model.bf16"] = (torch.randn(3, 2) * 100).bfloat16()
    state["model.i64"] = torch.arange(5, dtype=torch.int64).reshape(1, 5)
    state["model.bool"] = torch.tensor([True, False, True])
    state["model.base"] = base
    state["model.transposed"] = base.t()  # shares base's storage, strides (1, 4)
    state["model.slice"] = strided[1:, ::2]  # storage offset 6, strides (6, 2)
    state["model.parameter"] = torch.nn.Parameter(torch.randn(4).half())
    state["model.scalar"] = torch.tensor(3.5)
    state["model.empty"] = torch.zeros(0, 3)
    state["ip_adapter"] = {"1.to_k_ip.weight": torch.randn(2, 2)}  # nested, as an IP-Adapter .bin
    return {"state_dict": state, "global_step": 5, "note": "trained"}, state


def pickled_models():
    vae = os.path.join(WEIGHTS, "tiny-sd15", "vae")
    os.makedirs(os.path.join(HERE, "vae"), exist_ok=True)
    shutil.copy(os.path.join(vae, "config.json"), os.path.join(HERE, "vae", "config.json"))
    torch.save(load_file(os.path.join(vae, "diffusion_pytorch_model.safetensors")),
               os.path.join(HERE, "vae", "diffusion_pytorch_model.bin"), _use_new_zipfile_serialization=False)
    adapter = load_file(os.path.join(WEIGHTS, "ip-adapters", "sd-1_5", "style", "ip-adapter.safetensors"))
    nested = {part: {k[len(part) + 1:]: v for k, v in adapter.items() if k.startswith(part + ".")}
              for part in ("image_proj", "ip_adapter")}
    assert sum(map(len, nested.values())) == len(adapter)
    torch.save(nested, os.path.join(HERE, "ip-adapter.bin"))


def zip64_copy(source, target):
    """Rewrites the central directory of `source` in ZIP64 form; the entries' bytes stay in place."""
    with open(source, "rb") as f:
        data = f.read()
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
    # Local headers stay as written; their extra fields (torch's alignment padding) set where data starts.
    def data_end(info):
        name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
        return info.header_offset + 30 + name_length + extra_length + info.compress_size
    entries = data[:max(map(data_end, infos))]
    directory = b""
    for info in infos:
        name = info.filename.encode()
        extra = struct.pack("<HHQQQ", 1, 24, info.file_size, info.compress_size, info.header_offset)
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, info.CRC,
                                 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra
    offset, record = len(entries), len(entries) + len(directory)
    end64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(infos), len(infos), len(directory), offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, record, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(target, "wb") as f:
        f.write(entries + directory + end64 + locator + end)


class RunsCode:
    """Pickles as a call of os.system, as a booby-trapped checkpoint would."""

    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def main():
    checkpoint, state = state_dict()
    torch.save(checkpoint, os.path.join(HERE, "state.pt"))
    torch.save(checkpoint, os.path.join(HERE, "state_legacy.pt"), _use_new_zipfile_serialization=False)
    expected = {name: tensor.detach().contiguous().clone() for name, tensor in state.items() if name != "ip_adapter"}
    expected["ip_adapter.1.to_k_ip.weight"] = state["ip_adapter"]["1.to_k_ip.weight"].clone()
    save_file(expected, os.path.join(HERE, "expected.safetensors"))
    zip64_copy(os.path.join(HERE, "state.pt"), os.path.join(HERE, "state_zip64.pt"))
    torch.save(checkpoint, os.path.join(HERE, "state_protocol4.pt"), pickle_protocol=4)
    loaded = torch.load(os.path.join(HERE, "state_zip64.pt"), weights_only=True)["state_dict"]
    assert all(torch.equal(loaded[k], v) for k, v in state.items() if k != "ip_adapter")
    pickled_models()
    trap = {"state_dict": {"weight": torch.ones(2)}, "payload": RunsCode()}
    torch.save(trap, os.path.join(HERE, "malicious.pt"))
    torch.save(trap, os.path.join(HERE, "malicious_legacy.pt"), _use_new_zipfile_serialization=False)
    # The reference loader agrees: weights_only refuses the global, and the files are what they say.
    loaded = torch.load(os.path.join(HERE, "state_legacy.pt"), weights_only=True)["state_dict"]
    assert all(torch.equal(loaded[k], v) for k, v in state.items() if k != "ip_adapter")
    try:
        torch.load(os.path.join(HERE, "malicious.pt"), weights_only=True)
        raise SystemExit("weights_only loaded the malicious pickle")
    except Exception as error:  # noqa: BLE001 - torch raises UnpicklingError
        assert "system" in str(error), error


if __name__ == "__main__":
    main()
