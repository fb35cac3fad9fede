"""ReLU vs tanh with several seeds: the training curves the AlexNet chapter loads.

    python scripts/relu_vs_tanh.py            # about 3 minutes on one CPU thread

(The 3 minutes: one 4-layer run takes 0.5 s and one 8-layer run 1.05 s on one
thread of the course's 2-core x86-64 machine, Python 3.11, timed 2026-11-29;
the grid has 120 of each.)

Krizhevsky et al. (2012), Sec. 3.1 and Fig. 1: a four-layer CNN with ReLUs reaches
25% training error on CIFAR-10 six times faster than with tanh; each network's
learning rate "was chosen independently to make training as fast as possible"
and no regularisation was used. This repeats the shape of that experiment on
1,024 images of the course's Fashion-MNIST subset, with

* the chapter's four-layer CNN (three strided convolutions and one fully
  connected layer) and an eight-layer one (four more 3x3 convolutions, stride 1);
* three initialisations: PyTorch's default; the paper's N(0, 0.01) weights with
  zero biases (AlexNet's Sec. 5; the paper does not give the CIFAR-10 network's);
  and He et al.'s (2015) normal initialisation for ReLUs, std sqrt(2 / fan-in),
  which came later and gives deep ReLU networks their best chance;
* learning rates 0.01, 0.03, 0.1 and 0.3 (SGD with momentum 0.9, no weight decay,
  ``cu.train.fit``'s recipe otherwise), 8 epochs of 16 steps of 64 images;
* seeds 0 to 4 (weights and batch order).

It writes the training error after each epoch (the fraction of the epoch's
images the network got wrong while training on them, as in the paper's figure)
of every run to ``course_utils/_data/relu_vs_tanh.csv``.
"""

import argparse
import dataclasses
import itertools
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn

import course_utils as cu
from course_utils._files import atomic_write

OUT = Path(__file__).resolve().parents[1] / "course_utils" / "_data" / "relu_vs_tanh.csv"
ACTIVATIONS = {"ReLU": nn.ReLU, "tanh": nn.Tanh}
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3)
EPOCHS = 8


def cnn(depth: int, activation: type[nn.Module]) -> nn.Sequential:
    """The chapter's four-layer CNN (depth 4), or the same with four more convolutions (8)."""
    layers: list[nn.Module] = []
    widths = [(1, 16, 5, 2), (16, 32, 3, 2), (32, 32, 3, 2)]  # in, out, kernel, stride
    if depth == 8:
        widths = [(1, 16, 5, 2), (16, 16, 3, 1), (16, 32, 3, 2), (32, 32, 3, 1),
                  (32, 32, 3, 2), (32, 32, 3, 1), (32, 32, 3, 1)]  # fmt: skip
    for in_channels, out_channels, kernel, stride in widths:
        layers += [nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2), activation()]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(32 * 4 * 4, 10))


def initialise_(model: nn.Module, init: str) -> None:
    """``"paper"``: weights from N(0, 0.01), biases 0 (Krizhevsky et al. 2012, Sec. 5);
    ``"he"``: N(0, 2 / fan-in), biases 0 (He et al. 2015); ``"default"``: PyTorch's."""
    for module in model.modules():
        if init != "default" and isinstance(module, nn.Conv2d | nn.Linear):
            if init == "paper":
                nn.init.normal_(module.weight, std=0.01)
            else:
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
            nn.init.zeros_(module.bias)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    train = cu.data.load_fashion_mnist("train", verbose=False)
    keep = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:1024]
    small = dataclasses.replace(train, images=train.images[keep], labels=train.labels[keep])
    rows = []
    start = time.time()
    grid = itertools.product(
        (4, 8), ACTIVATIONS, ("default", "paper", "he"), LEARNING_RATES, range(args.seeds)
    )
    for depth, activation, init, lr, seed in grid:
        cu.seed_everything(seed)
        model = cnn(depth, ACTIVATIONS[activation])
        initialise_(model, init)
        history = cu.train.fit(
            model, small, epochs=EPOCHS, batch_size=64, lr=lr, weight_decay=0.0,
            seed=seed, progress=False,
        )  # fmt: skip
        for epoch, accuracy in zip(history["epoch"], history["train_accuracy"], strict=True):
            rows.append({"depth": depth, "activation": activation, "init": init, "lr": lr,
                         "seed": seed, "epoch": int(epoch),
                         "train_error": round(1 - float(accuracy), 5)})  # fmt: skip
    with atomic_write(OUT, newline="") as f:  # never a half-written table
        pd.DataFrame(rows).to_csv(f, index=False)
    print(f"{len(rows) // EPOCHS} runs in {time.time() - start:.0f} s -> {OUT}")


if __name__ == "__main__":
    main()
