"""Train the two small models that ship with course_utils, and print their checksums.

    python scripts/train_checkpoints.py

trains ``small_alexnet`` and ``small_zfnet`` (course_utils.models) on the embedded
Fashion-MNIST subset (6,000 training images) with the same seed, data, optimiser
and number of epochs, and writes, in ``course_utils/_data/checkpoints/``:

* ``small_alexnet.pt``, ``small_zfnet.pt``: the state dicts (float32 tensors only);
* ``history.csv``: one row per model and epoch (loss, accuracies, seconds).

Then it prints the SHA-256 of each checkpoint: paste them into
``course_utils.models.CHECKPOINTS``. On the same machine and PyTorch version the
run is bit-for-bit repeatable; elsewhere floating-point sums may be ordered
differently, so the checksums change while the accuracies agree closely.
Takes about 5 minutes on a free 2-core CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch

import course_utils as cu
from course_utils._files import atomic_write
from course_utils.download import file_checksum

#: The training recipe of the shipped checkpoints (the chapter quotes it).
NAMES = ("small_alexnet", "small_zfnet")
RECIPE = {
    "epochs": 12,
    "batch_size": 64,
    "lr": 0.03,
    "lr_schedule": "cosine",
    "after_step": cu.train.renormalize_filters_,  # ZFNet's rule, radius 0.1 (both models)
    "seed": 0,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=cu.models.checkpoint_dir())
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    parser.add_argument("--models", nargs="+", default=list(NAMES), choices=NAMES)
    parser.add_argument(
        "--seed", type=int, default=RECIPE["seed"], help="to gauge seed-to-seed spread"
    )
    args = parser.parse_args()
    # One thread: the sums are then done in the same order on any number of cores
    # (and on a shared machine one thread is faster than two that wait for each other).
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    train = cu.data.load_fashion_mnist("train")
    test = cu.data.load_fashion_mnist("test")
    histories = []
    for name in args.models:
        cu.seed_everything(args.seed)
        model = getattr(cu.models, name)()
        start = time.perf_counter()
        history = cu.train.fit(
            model, train, test_set=test, progress=True, **{**RECIPE, "epochs": args.epochs}
        )
        print(f"{name}: {time.perf_counter() - start:.0f} s")
        print(history.round(4).to_string(index=False))
        path = args.out / f"{name}.pt"
        with atomic_write(path, "wb") as f:  # a temporary file, renamed when complete
            torch.save(model.state_dict(), f)
        histories.append(history.assign(model=name))
    history_path = args.out / "history.csv"
    if history_path.is_file():  # keep the other model's rows when training only one
        old = pd.read_csv(history_path)
        histories.insert(0, old[~old["model"].isin(args.models)])
    with atomic_write(history_path, newline="") as f:
        pd.concat(histories).round(4).to_csv(f, index=False)
    for name in args.models:
        print(f'"{name}": {file_checksum(args.out / f"{name}.pt")}')


if __name__ == "__main__":
    main()
