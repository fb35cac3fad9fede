"""Retrain the small AlexNet with the layers of Zeiler & Fergus's Table 3 removed or resized.

    nice -n 10 python scripts/train_ablations.py

Zeiler & Fergus (2014), Sec. 5.1 and Table 3, removed or resized layers of
their ImageNet models and retrained each variant from scratch. This script does
the same at small scale: each variant below of ``course_utils.models.small_alexnet``
(or ``small_zfnet``; layers numbered as in the paper: 1-5 convolutional, 6-7
fully connected) is built with :func:`course_utils.ablation.replace_layers` /
:func:`~course_utils.ablation.remove_layers`, initialised as ``SmallNet`` is
(He et al. 2015; new layers too), and trained on the embedded Fashion-MNIST
subset (6,000 images) with the recipe of the shipped checkpoints (``scripts/train_checkpoints.py``:
12 epochs, SGD, cosine schedule, ZFNet's filter renormalisation), once per seed.

The shipped results add the size changes on the small ZFNet, as the paper
made them on its own model::

    nice -n 10 python scripts/train_ablations.py --models small_zfnet --variants \
        baseline "fc6-7 x1/2" "fc6-7 x2" "conv3-5 bigger" "conv3-5 bigger, fc6-7 x2"

and two more seeds of the small AlexNet's baseline and of the three variants
that chapter 9 discusses most, so that their paired differences rest on five
seeds (about 5 minutes per run on the shared 2-core machine)::

    python scripts/train_ablations.py --seeds 3 4 --variants \
        baseline "no fc6-7" "no conv3-4" "fc6-7 x1/2"

It writes ``course_utils/_data/ablations.csv``, one row per model, variant and
seed: the paper's description of the variant, the number of parameters, the
top-1 accuracy on the 6,000 training images (eval mode, after training) and on
the 1,000 test images, and the wall-clock seconds. Runs already in the CSV are
skipped, so an interrupted run resumes where it stopped; the seeds run in
order, so the first seed of every variant comes first. One CPU thread; about a
minute per run on a free 2-core machine, several times that on a shared one.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn
from train_checkpoints import RECIPE  # the shipped checkpoints' recipe, unchanged

import course_utils as cu
from course_utils.ablation import remove_layers, replace_layers

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "course_utils" / "_data" / "ablations.csv"
# SmallNet's layer names: features.8/10/12 are conv3/4/5 (each followed by a ReLU),
# classifier.0/3 dropout, classifier.1/4 fc6/fc7 (then a ReLU), classifier.6 the output.
CONV34 = ["features.8", "features.9", "features.10", "features.11"]
FC7 = ["classifier.3", "classifier.4", "classifier.5"]
FC67 = ["classifier.0", "classifier.1", "classifier.2", *FC7]


def he(layer: nn.Conv2d | nn.Linear) -> nn.Module:
    """``layer`` initialised as in ``cu.models.SmallNet`` (He et al. 2015), for new layers."""
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)
    return layer


def fc_units(model: nn.Module, units: int) -> nn.Module:
    """Layers 6 and 7 with ``units`` units each (the paper: 2048 or 8192 instead of 4096)."""
    inputs = model.classifier[1].in_features
    return replace_layers(
        model,
        {
            "classifier.1": he(nn.Linear(inputs, units)),
            "classifier.4": he(nn.Linear(units, units)),
            "classifier.6": he(nn.Linear(units, model.classifier[6].out_features)),
        },
    )


def conv_maps(model: nn.Module, maps: tuple[int, int, int]) -> nn.Module:
    """Layers 3, 4, 5 with ``maps`` feature maps (the paper: 512, 1024, 512 instead of 384, 384, 256)."""
    inputs = model.features[8].in_channels
    return replace_layers(
        model,
        {
            "features.8": he(nn.Conv2d(inputs, maps[0], kernel_size=3, padding=1)),
            "features.10": he(nn.Conv2d(maps[0], maps[1], kernel_size=3, padding=1)),
            "features.12": he(nn.Conv2d(maps[1], maps[2], kernel_size=3, padding=1)),
            "classifier.1": he(nn.Linear(maps[2], model.classifier[1].out_features)),
        },
    )


def without_conv34(model: nn.Module) -> nn.Module:
    """Layers 3 and 4 removed: layer 5 then reads layer 2's 48 maps."""
    inputs = model.features[8].in_channels
    conv5 = he(nn.Conv2d(inputs, model.features[12].out_channels, kernel_size=3, padding=1))
    return replace_layers(remove_layers(model, CONV34), {"features.12": conv5})


def without_fc67(model: nn.Module) -> nn.Module:
    """Layers 6 and 7 removed (with their dropout): the output layer reads layer 5's maps."""
    last = model.classifier[6]
    output = he(nn.Linear(model.classifier[1].in_features, last.out_features))
    return replace_layers(remove_layers(model, FC67), {"classifier.6": output})


# Sizes scaled from the paper's: 384, 384, 256 -> 512, 1024, 512 is x4/3, x8/3, x2
# of the small model's 64, 64, 48; 4096 -> 2048 or 8192 is x1/2 or x2 of its 128.
BIG_CONV = (85, 171, 96)
VARIANTS = {
    "baseline": ("as trained for the course", lambda m: m),
    "no fc7": ("removed layer 7", lambda m: remove_layers(m, FC7)),
    "no fc6-7": ("removed layers 6,7", without_fc67),
    "no conv3-4": ("removed layers 3,4", without_conv34),
    "no conv3-4, fc6-7": ("removed layers 3,4,6,7", lambda m: without_fc67(without_conv34(m))),
    "fc6-7 x1/2": ("adjust layers 6,7: 64 units", lambda m: fc_units(m, 64)),
    "fc6-7 x2": ("adjust layers 6,7: 256 units", lambda m: fc_units(m, 256)),
    "conv3-5 bigger": (
        "adjust layers 3,4,5: 85,171,96 maps",
        lambda m: conv_maps(m, BIG_CONV),
    ),
    "conv3-5 bigger, fc6-7 x2": (
        "adjust layers 3,4,5: 85,171,96 maps and layers 6,7: 256 units",
        lambda m: fc_units(conv_maps(m, BIG_CONV), 256),
    ),
}


def build(model_name: str, variant: str, seed: int) -> nn.Module:
    """The variant, initialised from ``seed`` (the baseline as the shipped checkpoint was)."""
    cu.seed_everything(seed)
    return VARIANTS[variant][1](getattr(cu.models, model_name)())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--models", nargs="+", default=["small_alexnet"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    args = parser.parse_args()
    # One thread: faster than two on a shared machine, and the same order of sums everywhere.
    torch.set_num_threads(1)
    train = cu.data.load_fashion_mnist("train")
    test = cu.data.load_fashion_mnist("test")
    done = pd.read_csv(args.out) if args.out.is_file() else pd.DataFrame()
    for seed in args.seeds:
        for model_name in args.models:
            for variant in args.variants:
                if (
                    not done.empty
                    and (
                        (done["model"] == model_name)
                        & (done["variant"] == variant)
                        & (done["seed"] == seed)
                        & (done["epochs"] == args.epochs)
                    ).any()
                ):
                    continue
                model = build(model_name, variant, seed)
                start = time.perf_counter()
                recipe = {**RECIPE, "epochs": args.epochs, "seed": seed, "progress": False}
                cu.train.fit(model, train, **recipe)
                row = {
                    "model": model_name,
                    "variant": variant,
                    "paper": VARIANTS[variant][0],
                    "params": sum(p.numel() for p in model.parameters()),
                    "seed": seed,
                    "epochs": args.epochs,
                    "train_accuracy": cu.train.evaluate(model, train),
                    "test_accuracy": cu.train.evaluate(model, test),
                    "seconds": round(time.perf_counter() - start, 1),
                }
                print(row, flush=True)
                done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
                partial = args.out.with_name(args.out.name + ".partial")  # then rename:
                done.to_csv(partial, index=False)  # a crash never leaves half a CSV
                partial.replace(args.out)


if __name__ == "__main__":
    main()
