"""Rebuild course_utils/_data/fashion_mnist_subset.npz from the full Fashion-MNIST.

    python scripts/make_fashion_mnist_subset.py [--root /usr/share/datasets/fashion-mnist]

Draws, with a fixed seed, 600 training and 100 test images of each of the 10
classes, keeps them in their original order, and stores the images, labels and
their indices in the original files (so anyone can check the subset against
the full set). Writes to a temporary file, then renames it into place.
"""

import argparse
from pathlib import Path

import numpy as np

from course_utils._files import atomic_write
from course_utils.data import DEBIAN_FASHION_MNIST_DIR, load_fashion_mnist

PER_CLASS = {"train": 600, "test": 100}
SEED = 2012  # the year of AlexNet
OUT = Path(__file__).resolve().parents[1] / "course_utils" / "_data" / "fashion_mnist_subset.npz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(DEBIAN_FASHION_MNIST_DIR))
    args = parser.parse_args()
    rng = np.random.default_rng(SEED)
    arrays = {}
    for split, per_class in PER_CLASS.items():
        full = load_fashion_mnist(split, "full", root=args.root)
        labels = full.labels.numpy()
        chosen = np.sort(
            np.concatenate(
                [
                    rng.choice(np.flatnonzero(labels == c), size=per_class, replace=False)
                    for c in range(10)
                ]
            )
        )
        arrays[f"{split}_images"] = full.images.numpy()[chosen]
        arrays[f"{split}_labels"] = labels[chosen].astype(np.uint8)
        arrays[f"{split}_indices"] = chosen.astype(np.int32)
    with atomic_write(OUT, "wb") as f:  # a temporary file, renamed when complete
        np.savez_compressed(f, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
