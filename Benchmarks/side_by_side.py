"""Runs the same work in diffuse-bench, in PyTorch/diffusers and in OpenVINO, back to back, and prints
each run's time, diffuse's ratio to each and the peak resident memories (issue 8's side-by-side
benchmark, with issue 20's OpenVINO column), after the CPU model.

    swift build -c release --product diffuse-bench
    /work/venv/bin/python Benchmarks/side_by_side.py [--only a,b,c,d] [--repeats 2]

Cases (random full-size weights, float32, the same thread count on both sides):
  (a) one UNet forward, full-size SD1.5, 512x512, batch 2 (classifier-free guidance)
  (b) (a) with one full-size SD1.5 ControlNet whose residuals go into the UNet, timed together
  (c) one UNet forward, full-size SDXL, 1024x1024, batch 2
  (d) a whole generation, Benchmarks/generate/request.json: SD1.5 + one ControlNet + the base
      IP-Adapter with a ViT-H image encoder, 512x512, 20 steps, 1 image, guidance 7.5, text
      encoding and VAE decoding included. Its random models directory (about 4 GB) is written once
      under /tmp by `diffuse-bench generate --write-models` and deleted afterwards, unless --models
      names one already written.

OpenVINO (PyPI `openvino`, skipped when not installed) runs the same random networks converted with
`openvino.convert_model` at static shapes, float32 (`INFERENCE_PRECISION_HINT` f32), on the same
threads: `reference_unet.py --runtime openvino` for (a)-(c) (with (b)'s ControlNet and UNet as one
model), `reference_generate.py --runtime openvino` for (d) (its four networks, diffusers' loop around
them). A child process converts and exits before the timed process compiles, so neither holds two
copies of the weights; a case's OpenVINO run is skipped, with the reason printed, when the machine's
available memory is below what its conversion or its timed process holds, plus a margin (OPENVINO_MEMORY_GIB).
The OpenVINO RSS column is the timed process's peak, which includes the converted weights' mapped
file (reclaimable page cache, about the model's size); "conv RSS" is the conversion's.

The runtimes alternate (diffuse, PyTorch, OpenVINO, diffuse, ...) so all three see the same machine load; a
shared machine's load changes from minute to minute, so compare the ratios, not the seconds.
--quick runs every case at 128x128 (and (d) in 2 steps) to check the plumbing: not a measurement.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "Benchmarks")
SD15 = {"--family": "sd-1_5", "--width": "512", "--height": "512", "--batch": "2"}
# key: (title, diffuse-bench subcommand, PyTorch script, flags both take)
CASES = {
    "a": ("SD1.5 UNet, 512x512, batch 2", "unet", "reference_unet.py", SD15),
    "b": ("SD1.5 UNet + ControlNet, 512x512, b2", "unet", "reference_unet.py", {**SD15, "--controlnet": None}),
    "c": ("SDXL UNet, 1024x1024, batch 2", "unet", "reference_unet.py",
          {"--family": "sd-xl", "--width": "1024", "--height": "1024", "--batch": "2"}),
    "d": ("SD1.5 + CN + IP-Adapter, 20 steps", "generate", "reference_generate.py", {}),
}
QUICK = {"--width": "128", "--height": "128"}
# GiB of MemAvailable a case's OpenVINO run needs at full size: the larger of its conversion's peak (a 4.4,
# b 5.8, c 11.0-11.7, d 9.7; (a)-(c) trace at 64x64 whatever the size, openvino_support.save) and its timed
# process's memory besides the mapped IR (c: about 12 GiB), plus 2 GiB for other jobs' growth.
OPENVINO_MEMORY_GIB = {"a": 9, "b": 11, "c": 14, "d": 14}


def last_json(command, optional=False):
    """Runs `command` and returns the JSON object on its last line of output. A failure stops the
    script, unless `optional` (an OpenVINO run, killed for memory, say): then it prints the reason
    and returns None, keeping the case's other figures."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        message = f"{' '.join(command)} failed (status {done.returncode}):\n{done.stderr[-3000:]}"
        if not optional:
            sys.exit(message)
        print(message, flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def arguments(flags):
    """`{"--flag": value}` as a command line; a None value is a bare switch."""
    return [item for flag, value in flags.items() for item in ([flag] if value is None else [flag, value])]


def commands(key, bench, models, quick, openvino):
    """The diffuse-bench, PyTorch and OpenVINO (or None) commands of case `key`."""
    _, subcommand, script, flags = CASES[key]
    flags = {**flags, **(QUICK if quick else {})}
    if subcommand == "generate":
        flags = {**flags, "--models": models, **({"--steps": "2"} if quick else {})}
    torch = [sys.executable, os.path.join(HERE, script)] + arguments(flags)
    return ([bench, subcommand] + arguments(flags), torch,
            torch + ["--runtime", "openvino"] if openvino else None)


def cpu_model():
    """/proc/cpuinfo's model name, family and model (what the figures are worth on)."""
    with open("/proc/cpuinfo") as f:
        first = f.read().split("\n\n")[0]
    fields = {name.strip(): value.strip() for name, value in (line.split(":", 1) for line in first.splitlines() if ":" in line)}
    return f"{fields.get('model name', '?')} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"


def memory_to_spare(key):
    """None when the machine has the memory case `key`'s OpenVINO run needs, or why it is skipped."""
    with open("/proc/meminfo") as f:
        available = next(int(line.split()[1]) for line in f if line.startswith("MemAvailable")) / 2**20
    needed = OPENVINO_MEMORY_GIB[key]
    if available >= needed:
        return None
    return f"({key}) OpenVINO skipped: {available:.1f} GiB available, it needs {needed} GiB"


def write_models(bench, args):
    """Case (d)'s models directory and the folder to delete afterwards: --models as given (nothing
    to delete), or a new one written under /tmp."""
    if args.models:
        return args.models, None
    parent = tempfile.mkdtemp(prefix="diffuse-bench-models-", dir="/tmp")
    models = os.path.join(parent, "models")
    subprocess.run([bench, "generate", "--write-models", models], check=True)
    return models, parent


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="a,b,c,d", help="comma-separated cases to run (a, b, c, d)")
    parser.add_argument("--repeats", type=int, default=1, help="pairs per case")
    parser.add_argument("--bench", default=os.path.join(ROOT, ".build", "release", "diffuse-bench"))
    parser.add_argument("--models", help="for (d): a models directory `diffuse-bench generate --write-models` wrote")
    parser.add_argument("--quick", action="store_true", help="128x128 and 2 steps: checks the plumbing only")
    args = parser.parse_args()
    if not os.path.exists(args.bench):
        sys.exit(f"build diffuse-bench first: swift build -c release --product diffuse-bench ({args.bench} missing)")
    keys = args.only.split(",")
    openvino = importlib.util.find_spec("openvino") is not None
    models, temporary = write_models(args.bench, args) if "d" in keys else (None, None)
    try:
        print(f"cpu: {cpu_model()}; OpenVINO: {'yes' if openvino else 'not installed, skipped'}")
        if args.quick:
            print("quick: every case at 128x128, (d) in 2 steps; not a measurement")
        print(f"{'case':<42} {'diffuse s':>10} {'PyTorch s':>10} {'ratio':>6} {'OpenVINO s':>10} {'ratio':>6} "
              f"{'diffuse RSS':>12} {'PyTorch RSS':>12} {'OpenVINO RSS':>12} {'conv RSS':>12}")
        blas = None
        for key in keys:
            ours_command, torch_command, openvino_command = commands(key, args.bench, models, args.quick, openvino)
            for _ in range(args.repeats):
                ours, torch = last_json(ours_command), last_json(torch_command)
                skipped = memory_to_spare(key) if openvino_command else None
                if skipped:
                    print(skipped, flush=True)
                ov = last_json(openvino_command, optional=True) if openvino_command and not skipped else None
                if blas is None:
                    blas = ours.get("blas_library")
                    print(f"diffuse's BLAS: {blas}")
                gib = lambda result, field="peak_rss_bytes": f"{result[field] / 2**30:>10.2f} G"
                print(f"({key}) {CASES[key][0]:<38} {ours['seconds']:>10.2f} {torch['seconds']:>10.2f} "
                      f"{ours['seconds'] / torch['seconds']:>6.2f} "
                      + (f"{ov['seconds']:>10.2f} {ours['seconds'] / ov['seconds']:>6.2f} " if ov else f"{'-':>10} {'-':>6} ")
                      + f"{gib(ours)} {gib(torch)} {gib(ov) if ov else '-':>12} "
                      + f"{gib(ov, 'convert_peak_rss_bytes') if ov else '-':>12}", flush=True)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)


if __name__ == "__main__":
    main()
