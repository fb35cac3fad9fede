"""Small AlexNet vs small ZFNet with several seeds: the test accuracies the chapter loads.

    python scripts/small_nets_seeds.py     # about 12 minutes on one free CPU thread

Trains ``small_alexnet`` and ``small_zfnet`` with the recipe of the shipped
checkpoints (``scripts/train_checkpoints.py``: 12 epochs of the embedded 6,000
training images, SGD with momentum 0.9, weight decay 5e-4, cosine schedule from
0.03, batches of 64, ZFNet's filter rule) from the initial weights of seeds 0 to
4 (the recipe's batch order stays that of seed 0, as in ``train_checkpoints.py
--seed``), and writes the test accuracy on the 1,000 embedded test images after
each epoch to ``course_utils/_data/small_nets_seeds.csv``. Seed 0 repeats the
shipped checkpoints' run.
"""

import argparse
import sys
import time
from pathlib import Path

import pandas as pd
import torch

import course_utils as cu

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_checkpoints import NAMES, RECIPE  # noqa: E402  (the one recipe, not a copy)

OUT = Path(__file__).resolve().parents[1] / "course_utils" / "_data" / "small_nets_seeds.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = cu.data.load_fashion_mnist("train", verbose=False)
    test = cu.data.load_fashion_mnist("test", verbose=False)
    rows = []
    for seed in range(args.seeds):
        for name in NAMES:
            start = time.perf_counter()
            cu.seed_everything(seed)
            model = getattr(cu.models, name)()
            history = cu.train.fit(model, train, test_set=test, progress=False, **RECIPE)
            rows += [
                {"model": name, "seed": seed, "epoch": int(epoch), "test_accuracy": accuracy}
                for epoch, accuracy in zip(history["epoch"], history["test_accuracy"], strict=True)
            ]
            print(f"seed {seed} {name}: {history['test_accuracy'].iloc[-1]:.3f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    partial = OUT.with_name(OUT.name + ".partial")  # written whole, then renamed
    pd.DataFrame(rows).round(4).to_csv(partial, index=False)
    partial.replace(OUT)
    print(f"-> {OUT}")


if __name__ == "__main__":
    main()
