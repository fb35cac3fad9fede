"""Time course_utils.occlusion.occlusion_attribution against Captum's Occlusion on identical work.

    python scripts/benchmark_occlusion.py

Prints a table; it is not a test (timings depend on the machine and its load).
Each case is one image, one model, one window and stride, the same for both:

* the course's small AlexNet (shipped weights) on a 28x28 Fashion-MNIST image;
* torchvision's AlexNet architecture (random weights: the time does not depend
  on them, and nothing is downloaded) on a 224x224 photo.

Captum runs twice: with its default ``perturbations_per_eval=1`` (one forward
pass per window position) and with ``perturbations_per_eval`` equal to the
batch size ``occlusion_attribution`` picks from its memory budget (the same
batches). Each time is the best of ``--repeat`` runs, on one CPU thread; the
last column is the largest difference between the two maps.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F
from captum.attr import Occlusion

import course_utils as cu
from course_utils.occlusion import occlusion_attribution


def best_time(repeat: int, fn, *args, **kwargs) -> tuple[float, torch.Tensor]:
    """Best wall-clock time of ``fn(*args, **kwargs)`` over ``repeat`` runs, and its result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        times.append(time.perf_counter() - start)
    return min(times), result


def cases() -> list[tuple[str, torch.nn.Module, torch.Tensor, int, int, int]]:
    """(name, model, image (1, C, H, W), target, window, stride)."""
    image, label = cu.data.load_fashion_mnist("test")[0]
    small = cu.models.load_pretrained("small_alexnet")
    photo = torch.from_numpy(cu.data.sample_photo("chelsea")).permute(2, 0, 1).float() / 255
    photo = F.interpolate(photo[None], size=(224, 224), mode="bilinear", antialias=True)
    alexnet = cu.models.alexnet("torchvision").eval()
    return [
        ("small_alexnet, 28x28, window 7, stride 1", small, image[None], label, 7, 1),
        ("small_alexnet, 28x28, window 5, stride 3", small, image[None], label, 5, 3),
        ("AlexNet, 224x224, window 32, stride 16", alexnet, photo, 281, 32, 16),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread")
    header = (
        f"{'case':<42} {'windows':>7} {'batch':>5} {'ours s':>7} {'Captum s':>8} "
        f"{'x faster':>8} {'Captum=b s':>10} {'x faster':>8} {'max diff':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, model, image, target, window, stride in cases():
        channels, height, width = image.shape[1:]
        windows = len(cu.occlusion.window_starts(height, window, stride)) * len(
            cu.occlusion.window_starts(width, window, stride)
        )
        batch = min(args.batch_size, windows)
        ours, ours_map = best_time(
            args.repeat,
            occlusion_attribution,
            model,
            image,
            target=target,
            window=window,
            stride=stride,
            batch_size=args.batch_size,
        )
        kwargs = {
            "sliding_window_shapes": (channels, window, window),
            "strides": (channels, stride, stride),
            "baselines": 0.0,
            "target": target,
        }
        captum = Occlusion(model).attribute
        default, captum_map = best_time(args.repeat, captum, image, **kwargs)
        equal, _ = best_time(args.repeat, captum, image, perturbations_per_eval=batch, **kwargs)
        diff = float((ours_map - captum_map).abs().max())
        print(
            f"{name:<42} {windows:>7} {batch:>5} {ours:>7.3f} {default:>8.3f} "
            f"{default / ours:>8.1f} {equal:>10.3f} {equal / ours:>8.1f} {diff:>8.1e}"
        )


if __name__ == "__main__":
    main()
