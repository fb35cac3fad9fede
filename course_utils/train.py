"""A small, readable training loop: seeded, deterministic on the CPU, with one progress bar.

The loop is the textbook one (Krizhevsky et al. 2012, Sec. 5): stochastic gradient
descent with momentum 0.9 and weight decay 5e-4 on the cross-entropy loss, in
mini-batches drawn in a seeded random order. Optionally, after each step, ZFNet's
filter renormalisation (Zeiler & Fergus 2014, Sec. 3.1;
:func:`course_utils.models.renormalize_filters_`).

Same seed, same data, same model, same machine -> the same weights, bit for bit
(``seed_everything`` asks PyTorch for deterministic algorithms, the shuffling and
dropout draw from seeded generators). On another machine or PyTorch version the
floating-point sums may be done in another order, so the weights can differ in
the last bits.
"""

from __future__ import annotations

import math
import time

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .models import renormalize_filters_
from .seeding import seed_everything

__all__ = ["evaluate", "fit", "predict"]


def _check_dataset(dataset, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    if not hasattr(dataset, "tensors"):
        raise TypeError(
            f"{name} must be an ImageSet (e.g. from cu.data.load_fashion_mnist), "
            f"got {type(dataset).__name__}"
        )
    return dataset.tensors()


@torch.no_grad()
def predict(model: nn.Module, dataset, *, batch_size: int = 100) -> torch.Tensor:
    """Class scores of ``model`` for every image of ``dataset``, in eval mode.

    Args:
        model: a classifier taking ``(N, 1, H, W)`` float images in [0, 1].
        dataset: an :class:`course_utils.data.ImageSet`.
        batch_size: images per forward pass (memory only; results do not depend on it).

    Returns:
        ``(N, C)`` float32 tensor of unnormalised scores (logits).
    """
    images, _ = _check_dataset(dataset, "dataset")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    was_training = model.training
    model.eval()
    scores = torch.cat([model(batch) for batch in images.split(batch_size)])
    model.train(was_training)
    return scores


def evaluate(model: nn.Module, dataset, *, k: int = 1, batch_size: int = 100) -> float:
    """Top-``k`` accuracy (a fraction in [0, 1]) of ``model`` on ``dataset``.

    Uses :func:`course_utils.metrics.topk_accuracy` on the scores of :func:`predict`.
    """
    from .metrics import topk_accuracy

    _, labels = _check_dataset(dataset, "dataset")
    return topk_accuracy(predict(model, dataset, batch_size=batch_size), labels, k=k)


def fit(
    model: nn.Module,
    train_set,
    *,
    test_set=None,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 0.01,
    momentum: float = 0.9,
    weight_decay: float = 5e-4,
    lr_schedule: str = "constant",
    max_filter_rms: float | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Train ``model`` in place with SGD and return one row of history per epoch.

    Args:
        model: a classifier taking ``(N, 1, H, W)`` float images in [0, 1] and
            returning ``(N, C)`` scores.
        train_set: an :class:`course_utils.data.ImageSet` to train on.
        test_set: an ``ImageSet`` to measure top-1 accuracy on after each epoch, or ``None``.
        epochs: passes over ``train_set``.
        batch_size: images per step (the last, smaller batch of an epoch is kept).
        lr, momentum, weight_decay: of ``torch.optim.SGD`` (AlexNet's 0.9 and 5e-4 by default).
        lr_schedule: ``"constant"``, or ``"cosine"`` to lower the learning rate
            from ``lr`` to 0 along a half cosine over all steps (Loshchilov &
            Hutter 2017), so the last epoch's weights are not caught mid-jump.
        max_filter_rms: if given, apply ZFNet's renormalisation with this radius
            after every step (the paper used 0.1).
        seed: seeds the batch order and dropout (through :func:`course_utils.seeding.seed_everything`).
        progress: show a progress bar over the steps.

    Returns:
        One row per epoch, as a pandas DataFrame with the columns ``epoch``, ``train_loss`` (mean
        cross-entropy over the epoch's steps, nats), ``train_accuracy``
        (fraction of training images classified right during the epoch, with
        dropout on), ``test_accuracy`` (fraction, if ``test_set``) and
        ``seconds`` (wall-clock time of the epoch).
    """
    images, labels = _check_dataset(train_set, "train_set")
    if test_set is not None:
        _check_dataset(test_set, "test_set")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    if lr == 0:
        raise ValueError("lr must be positive, got 0")
    if max_filter_rms is not None and not (
        isinstance(max_filter_rms, int | float) and max_filter_rms > 0
    ):
        raise ValueError(
            f"max_filter_rms must be a positive number or None, got {max_filter_rms!r}"
        )
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}")
    generator = seed_everything(seed)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    steps_per_epoch = -(-len(labels) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            1.0
            if lr_schedule == "constant"
            else 0.5 * (1 + math.cos(math.pi * step / (epochs * steps_per_epoch)))
        ),
    )
    history = []
    bar = tqdm(total=epochs * steps_per_epoch, desc="training", unit="step", disable=not progress)
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        model.train()
        order = torch.randperm(len(labels), generator=generator)
        total_loss, correct = 0.0, 0
        for batch in order.split(batch_size):
            scores = model(images[batch])
            loss = F.cross_entropy(scores, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            if max_filter_rms is not None:
                renormalize_filters_(model, max_filter_rms)
            total_loss += loss.item()
            correct += int((scores.argmax(dim=1) == labels[batch]).sum())
            bar.update(1)
        row = {
            "epoch": epoch,
            "train_loss": total_loss / steps_per_epoch,
            "train_accuracy": correct / len(labels),
        }
        if test_set is not None:
            row["test_accuracy"] = evaluate(model, test_set)
        row["seconds"] = time.perf_counter() - start
        bar.set_postfix(loss=f"{row['train_loss']:.3f}")
        history.append(row)
    bar.close()
    model.eval()
    return pd.DataFrame(history)
