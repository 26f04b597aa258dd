"""Times cv2.Canny on photo-sized images and writes them for the Swift side of the comparison.

Run from the repository root with the pinned oracle:
    /work/venv/bin/python Tests/Goldens/canny/benchmark.py /tmp/canny-bench
then time CannyDetector on the same files (and check it agrees with OpenCV on them):
    CANNY_BENCH=/tmp/canny-bench swift test -c release --scratch-path .build-canny --filter CannySpeed

The images are the astronaut fixture (a natural photo) upscaled with cv2.INTER_CUBIC to
512x512 and 1024x1024, plus mild noise so that edges are not unnaturally clean. Each is saved
as <size>.png with OpenCV's edges as <size>.edges.png (one channel).
"""
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [512, 1024]
REPEATS = 50


def photo(size, seed=0):
    small = np.fromfile(os.path.join(HERE, "astronaut.rgb"), np.uint8).reshape(160, 160, 3)
    big = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    noise = np.random.default_rng(seed).normal(0, 3, big.shape)
    return np.clip(big + noise, 0, 255).astype(np.uint8)


def best_of(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), sorted(times)[len(times) // 2]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/canny-bench"
    os.makedirs(out, exist_ok=True)
    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads")
    for size in SIZES:
        rgb = photo(size)
        edges = cv2.Canny(rgb, 100, 200)
        # cv2.imwrite takes BGR: reverse so the PNG holds the RGB array as RGB.
        cv2.imwrite(os.path.join(out, f"{size}.png"), rgb[:, :, ::-1])
        cv2.imwrite(os.path.join(out, f"{size}.edges.png"), edges)
        for threads in [cv2.getNumThreads(), 1]:
            saved = cv2.getNumThreads()
            cv2.setNumThreads(threads)
            best, median = best_of(lambda: cv2.Canny(rgb, 100, 200), REPEATS)
            cv2.setNumThreads(saved)
            print(f"cv2.Canny {size}x{size} on {threads} thread(s): best {best * 1e3:.2f} ms, "
                  f"median {median * 1e3:.2f} ms, {int((edges > 0).sum())} edge pixels")


if __name__ == "__main__":
    main()
