"""Runs the same work in diffuse-bench and in PyTorch/diffusers, back to back, and prints each
pair's times, their ratio and both peak resident memories (issue 8's side-by-side benchmark).

    swift build -c release --product diffuse-bench
    /work/venv/bin/python Benchmarks/side_by_side.py [--only a,c] [--repeats 2]

Cases:
  (a) one UNet forward, full-size SD1.5, 512x512, batch 2 (classifier-free guidance), random weights
  (c) one UNet forward, full-size SDXL, 1024x1024, batch 2
Not yet measured here: (b) (a) with one full-size ControlNet, and (d) a whole SD1.5 generation
with a ControlNet and a ViT-H IP-Adapter; diffuse-bench has no full-size ControlNet/IP-Adapter
benchmark yet.

The two runtimes alternate (diffuse, PyTorch, diffuse, ...) so both see the same machine load; a
shared machine's load changes from minute to minute, so compare the ratios, not the seconds.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, ".build", "release", "diffuse-bench")
REFERENCE = os.path.join(ROOT, "Benchmarks", "reference_unet.py")
CASES = {
    "a": ("SD1.5 UNet, 512x512, batch 2", ["--family", "sd-1_5", "--width", "512", "--height", "512", "--batch", "2"]),
    "c": ("SDXL UNet, 1024x1024, batch 2", ["--family", "sd-xl", "--width", "1024", "--height", "1024", "--batch", "2"]),
}


def last_json(command):
    """Runs `command` and returns the JSON object on its last line of output."""
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="a,c", help="comma-separated cases to run (a, c)")
    parser.add_argument("--repeats", type=int, default=1, help="pairs per case")
    args = parser.parse_args()
    if not os.path.exists(BENCH):
        sys.exit(f"build diffuse-bench first: swift build -c release --product diffuse-bench ({BENCH} missing)")
    print(f"{'case':<34} {'diffuse s':>10} {'PyTorch s':>10} {'ratio':>6} {'diffuse RSS':>12} {'PyTorch RSS':>12}")
    for key in args.only.split(","):
        title, flags = CASES[key]
        for _ in range(args.repeats):
            ours = last_json([BENCH, "unet"] + flags)
            theirs = last_json([sys.executable, REFERENCE] + flags)
            print(f"({key}) {title:<30} {ours['seconds']:>10.2f} {theirs['seconds']:>10.2f} "
                  f"{ours['seconds'] / theirs['seconds']:>6.2f} {ours['peak_rss_bytes'] / 2**30:>10.2f} G "
                  f"{theirs['peak_rss_bytes'] / 2**30:>10.2f} G", flush=True)


if __name__ == "__main__":
    main()
