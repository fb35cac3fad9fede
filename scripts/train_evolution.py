"""Train the small ZFNet and keep its weights after a few epochs (Zeiler & Fergus, Fig. 4).

    python scripts/train_evolution.py

Zeiler & Fergus (2014, Sec. 4, Fig. 4) show how the strongest features of each
layer change during training, at epochs 1, 2, 5, 10, 20, 30, 40 and 64 of their
70. This script trains ``small_zfnet`` with the recipe of the shipped
checkpoint (``RECIPE`` of ``scripts/train_checkpoints.py``: 12 epochs, seed 0,
SGD with a cosine learning rate, ZFNet's filter renormalisation) and saves the
weights at the end of epochs 1, 2, 5 and 12 in ``course_utils/_data/checkpoints/``
as ``small_zfnet_epoch01.pt`` ... ``small_zfnet_epoch12.pt`` (state dicts,
float32 tensors only, each written to a temporary name and renamed), and the
run's history as ``small_zfnet_evolution.csv``. Epoch 0, the initialisation, is
not stored: ``course_utils.evolution.load_epoch(0)`` rebuilds it from the seed.

The weights are taken inside ``after_step``, after the last step of an epoch,
so the training is ``cu.train.fit``'s, step for step. All four checkpoints come
from this one run, so epoch 12 is a checkpoint of its own: the script prints
how it compares with the shipped ``small_zfnet.pt``. Run in December 2026 with
PyTorch 2.14.1 on a 2-core CPU, it did not reproduce that file's bits (test
accuracy 78.5% against the shipped 80.6%), while three runs of this script gave
the same weights, bit for bit.

Then it prints the SHA-256 of each file: paste them into
``course_utils.evolution.CHECKPOINTS``. About 4 minutes on a free 2-core CPU (12 on a busy one).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

# The recipe of the shipped checkpoints, imported so that the two cannot drift apart.
from train_checkpoints import RECIPE  # scripts/ is on sys.path when run

import course_utils as cu
from course_utils._files import atomic_write
from course_utils.download import file_checksum

#: Epochs whose weights are kept (the last is the end of training).
EPOCHS = (1, 2, 5, RECIPE["epochs"])
NAME = "small_zfnet"


def save_atomically(state: dict, path: Path) -> None:
    """``torch.save`` to a temporary file in ``path``'s folder, then rename it to ``path``.

    Saved through an open file, not a file name: ``torch.save`` names the zip
    archive's folder after the file name it is given, and a random temporary
    name would make the bytes (and the checksum) differ from run to run.
    """
    with atomic_write(path, "wb") as f:
        torch.save(state, f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=cu.models.checkpoint_dir())
    args = parser.parse_args()
    torch.set_num_threads(1)  # as train_checkpoints.py: the same sums in the same order
    args.out.mkdir(parents=True, exist_ok=True)
    train = cu.data.load_fashion_mnist("train")
    test = cu.data.load_fashion_mnist("test")
    steps_per_epoch = -(-len(train) // RECIPE["batch_size"])
    paths = {epoch: args.out / f"{NAME}_epoch{epoch:02d}.pt" for epoch in EPOCHS}
    steps = 0

    def after_step(model: torch.nn.Module) -> None:
        nonlocal steps
        RECIPE["after_step"](model)  # the recipe's own rule first, unchanged
        steps += 1
        epoch, rest = divmod(steps, steps_per_epoch)
        if rest == 0 and epoch in paths:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            save_atomically(state, paths[epoch])

    cu.seed_everything(RECIPE["seed"])
    model = getattr(cu.models, NAME)()
    start = time.perf_counter()
    history = cu.train.fit(model, train, test_set=test, **{**RECIPE, "after_step": after_step})
    print(f"{NAME}: {time.perf_counter() - start:.0f} s")
    print(history.round(4).to_string(index=False))
    table = args.out / f"{NAME}_evolution.csv"
    with atomic_write(table, newline="") as f:
        history.round(4).to_csv(f, index=False)
    final = model.state_dict()
    shipped = torch.load(cu.models.checkpoint_dir() / f"{NAME}.pt", weights_only=True)
    same = all(torch.equal(final[k], shipped[k]) for k in shipped)
    largest = max(float((final[k] - shipped[k]).abs().max()) for k in shipped)
    print(
        f"epoch {RECIPE['epochs']} equals the shipped {NAME}.pt bit for bit: {same} "
        f"(largest weight difference {largest:.3g}); shipped test accuracy "
        f"{cu.train.evaluate(cu.models.load_pretrained(NAME), test):.3f}, this run's "
        f"{history['test_accuracy'].iloc[-1]:.3f}"
    )
    for epoch, path in paths.items():
        print(f'{epoch}: ("{path.name}", "{file_checksum(path)}"),')


if __name__ == "__main__":
    main()
