"""Time course_utils.metrics at the size of the ILSVRC evaluation sets.

    python scripts/benchmark_metrics.py

Prints a table; it is not a test (timings depend on the machine and its load).
Sizes: top-k accuracy on 50,000 x 1,000 scores (the ILSVRC validation set);
detection mAP over 10,000 detections of 200 classes in 2,000 images, against
4,000 ground-truth boxes. Each time is the best of ``--repeat`` runs.
"""

import argparse
import platform
import time

import numpy as np
import torch
from sklearn.metrics import top_k_accuracy_score

from course_utils.metrics import box_iou, mean_average_precision, topk_accuracy


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def detection_problem(rng, num_det=10_000, num_gt=4_000, num_images=2_000, num_classes=200):
    """Random ground truth, and detections that are jittered copies of it or random boxes."""

    def boxes(n):
        xy = rng.uniform(0, 400, size=(n, 2))
        return np.concatenate([xy, xy + rng.uniform(8, 200, size=(n, 2))], axis=1)

    gt = [rng.integers(0, num_images, num_gt), rng.integers(0, num_classes, num_gt), boxes(num_gt)]
    source = rng.integers(0, num_gt, num_det)
    copies = rng.random(num_det) < 0.6
    det_boxes = np.where(
        copies[:, None], gt[2][source] + rng.normal(0, 4, (num_det, 4)), boxes(num_det)
    )
    det_boxes[:, 2:] = np.maximum(det_boxes[:, 2:], det_boxes[:, :2])
    det = [
        np.where(copies, gt[0][source], rng.integers(0, num_images, num_det)),
        np.where(copies, gt[1][source], rng.integers(0, num_classes, num_det)),
        det_boxes,
        rng.random(num_det),
    ]
    return det, gt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50_000, 1_000)).astype(np.float32)
    labels = rng.integers(0, 1_000, 50_000)
    det, gt = detection_problem(rng)
    a, b = det[2][:2_000], gt[2][:2_000]

    rows = [
        ("topk_accuracy, k=5", "50,000 x 1,000 scores", lambda: topk_accuracy(scores, labels, k=5)),
        (
            "topk_accuracy, k=5 (torch)",
            "50,000 x 1,000 scores",
            lambda: topk_accuracy(torch.from_numpy(scores), torch.from_numpy(labels), k=5),
        ),
        (
            "sklearn top_k_accuracy_score",
            "50,000 x 1,000 scores",
            lambda: top_k_accuracy_score(labels, scores, k=5, labels=np.arange(1_000)),
        ),
        ("box_iou", "2,000 x 2,000 boxes", lambda: box_iou(a, b)),
        (
            'mean_average_precision, "ilsvrc"',
            "10,000 detections",
            lambda: mean_average_precision(*det, *gt, iou_threshold="ilsvrc"),
        ),
        (
            'mean_average_precision, 0.5, "voc07"',
            "10,000 detections",
            lambda: mean_average_precision(*det, *gt, interpolation="voc07"),
        ),
    ]
    print(f"{platform.processor() or platform.machine()}, torch threads: {torch.get_num_threads()}")
    print(f"best of {args.repeat} runs\n")
    print(f"| {'function':<38} | {'input':<22} | {'seconds':>7} |")
    print(f"| {'-' * 38} | {'-' * 22} | {'-' * 7}:|")
    for name, size, fn in rows:
        print(f"| {name:<38} | {size:<22} | {best_time(fn, args.repeat):7.3f} |")
    mean, _ = mean_average_precision(*det, *gt, iou_threshold="ilsvrc")
    print(
        f"\n(mAP of the synthetic detections: {mean:.3f}; top-5 of random scores: "
        f"{topk_accuracy(scores, labels, k=5):.4f}, chance is 0.005)"
    )


if __name__ == "__main__":
    main()
