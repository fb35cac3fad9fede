"""A small, readable training loop: seeded, deterministic on the CPU, with one progress bar.

The loop is the textbook one (Krizhevsky et al. 2012, Sec. 5): stochastic gradient
descent with momentum 0.9 and weight decay 5e-4 on the cross-entropy loss, in
mini-batches drawn in a seeded random order. A rule that an architecture applies
after every step goes in through ``after_step``: ZFNet's filter renormalisation
(Zeiler & Fergus 2014, Sec. 3.1), :func:`renormalize_filters_`, is one.

Same seed, same data, same model, same machine -> the same weights, bit for bit
(PyTorch is asked for deterministic algorithms during training only,
:func:`course_utils.seeding.deterministic_algorithms`; the shuffling and dropout
draw from seeded generators). On another machine, another PyTorch version or a GPU
the floating-point sums may be done in another order, so the weights can differ in
the last bits.

Every function here runs the model inside
``course_utils._state.model_left_as_found`` and on the model's device: the
caller's model comes back with every submodule's mode, ``requires_grad``,
``.grad`` and hooks as they were (``fit`` changes the weights, and nothing else).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import _validate
from ._state import device_of, model_left_as_found
from .data import ImageSet
from .metrics import topk_accuracy
from .seeding import deterministic_algorithms, seed_everything

__all__ = ["evaluate", "fit", "predict", "renormalize_filters_"]


def _check_dataset(dataset, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    _validate.instance(dataset, name, ImageSet, "an ImageSet (e.g. from load_fashion_mnist)")
    if len(dataset) == 0:
        raise ValueError(f"{name} must hold at least one image, got an empty ImageSet")
    return dataset.tensors()


@torch.no_grad()
def _check_scores(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, name: str):
    """``model`` must take ``name``'s images and give a score to each of its classes.

    One image goes through the model in eval mode (no dropout, no change to any state).
    """
    try:
        with model_left_as_found(model):
            scores = model(images[:1].to(device_of(model)))
    except (RuntimeError, TypeError, ValueError, IndexError) as err:
        raise ValueError(
            f"model cannot take the images of {name} (shape {tuple(images.shape[1:])}): {err}"
        ) from None
    needed = int(labels.max()) + 1
    if not isinstance(scores, torch.Tensor) or scores.ndim != 2 or scores.shape[1] < needed:
        shape = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(
            f"model must return (N, C) scores with a column for each of the {needed} classes "
            f"of {name}, got {shape}"
        )


@torch.no_grad()
def predict(model: nn.Module, dataset, *, batch_size: int = 100) -> torch.Tensor:
    """Class scores of ``model`` for every image of ``dataset``, in eval mode.

    Args:
        model: a classifier taking ``(N, 1, H, W)`` float images in [0, 1].
        dataset: an :class:`course_utils.data.ImageSet`.
        batch_size: images per forward pass (memory only; results do not depend on it).

    Returns:
        ``(N, C)`` float tensor of unnormalised scores (logits), on the model's device.

    Example:
        >>> import course_utils as cu
        >>> test = cu.data.load_fashion_mnist("test", verbose=False)
        >>> model = cu.models.load_pretrained("small_alexnet")
        >>> predict(model, test).shape
        torch.Size([1000, 10])
    """
    _validate.module(model)
    images, labels = _check_dataset(dataset, "dataset")
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    _check_scores(model, images, labels, "dataset")
    device = device_of(model)
    with model_left_as_found(model):
        return torch.cat([model(batch.to(device)) for batch in images.split(batch_size)])


def evaluate(model: nn.Module, dataset, *, k: int = 1, batch_size: int = 100) -> float:
    """Top-``k`` accuracy (a fraction in [0, 1]) of ``model`` on ``dataset``.

    Uses :func:`course_utils.metrics.topk_accuracy` on the scores of :func:`predict`.
    """
    _validate.module(model)
    _, labels = _check_dataset(dataset, "dataset")
    _validate.integer(k, "k", min=1)
    scores = predict(model, dataset, batch_size=batch_size)
    return topk_accuracy(scores.cpu(), labels, k=k)


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
    after_step: Callable[[nn.Module], object] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> pd.DataFrame:
    """Train ``model`` in place with SGD and return one row of history per epoch.

    **What it changes.** The weights that have ``requires_grad`` (and nothing
    else): the model trains in train mode, on its own device, and comes back with
    every submodule's mode as it was found (a freshly built model is in train
    mode; call ``model.eval()`` or use :func:`evaluate` to test it), its
    ``requires_grad`` flags, ``.grad`` tensors and hooks untouched. The global
    random generators are re-seeded with ``seed`` (as
    :func:`course_utils.seeding.seed_everything` does); deterministic algorithms
    are asked for during training only.

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
        after_step: if given, called as ``after_step(model)`` after every
            optimiser step, e.g. ZFNet's :func:`renormalize_filters_` (radius 0.1,
            the paper's) or ``functools.partial(renormalize_filters_, max_rms=0.05)``.
        seed: seeds the batch order and dropout (through :func:`course_utils.seeding.seed_everything`).
        progress: show a progress bar over the steps.

    Raises:
        FloatingPointError: the loss or the weights stopped being finite (``lr`` too large).
        ValueError: no parameter has ``requires_grad`` (nothing to train).

    Returns:
        One row per epoch, as a pandas DataFrame with the columns ``epoch``, ``train_loss`` (mean
        cross-entropy over the epoch's steps, nats), ``train_accuracy``
        (fraction of training images classified right during the epoch, with
        dropout on), ``test_accuracy`` (fraction, if ``test_set``) and
        ``seconds`` (wall-clock time of the epoch).
    """
    _validate.module(model)
    images, labels = _check_dataset(train_set, "train_set")
    epochs = _validate.integer(epochs, "epochs", min=1)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    lr = _validate.number(lr, "lr", positive=True)
    momentum = _validate.number(momentum, "momentum", min=0)
    weight_decay = _validate.number(weight_decay, "weight_decay", min=0)
    _validate.one_of(lr_schedule, "lr_schedule", ("constant", "cosine"))
    _validate.function(after_step, "after_step", optional=True)
    seed = _validate.integer(seed, "seed", min=0, max=2**32 - 1)
    progress = _validate.flag(progress, "progress")
    _check_scores(model, images, labels, "train_set")
    if test_set is not None:
        _check_scores(model, *_check_dataset(test_set, "test_set"), "test_set")
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("model has no parameter with requires_grad=True: nothing to train")
    device = device_of(model)
    generator = seed_everything(seed)
    optimizer = torch.optim.SGD(trainable, lr=lr, momentum=momentum, weight_decay=weight_decay)
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
    with bar, model_left_as_found(model, train=True), deterministic_algorithms():
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = torch.randperm(len(labels), generator=generator)
            total_loss, correct = 0.0, 0
            for batch in order.split(batch_size):
                x, y = images[batch].to(device), labels[batch].to(device)
                scores = model(x)
                loss = F.cross_entropy(scores, y)
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"the loss became {loss.item()} in epoch {epoch}: training diverged; "
                        f"lower lr (got {lr:g})"
                    )
                gradients = torch.autograd.grad(loss, trainable)
                for p, g in zip(trainable, gradients, strict=True):
                    p.grad = g
                optimizer.step()
                schedule.step()
                if after_step is not None:
                    after_step(model)
                total_loss += loss.item()
                correct += int((scores.argmax(dim=1) == y).sum())
                bar.update(1)
            if not all(torch.isfinite(p).all() for p in trainable):
                raise FloatingPointError(
                    f"the weights are no longer finite after epoch {epoch}: training diverged; "
                    f"lower lr (got {lr:g})"
                )
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
    return pd.DataFrame(history)


@torch.no_grad()
def renormalize_filters_(model: nn.Module, max_rms: float = 0.1) -> int:
    """Rescale, in place, every conv filter whose RMS exceeds ``max_rms`` to RMS ``max_rms``.

    Zeiler & Fergus (2014), Sec. 3.1: "We renormalize each filter in the
    convolutional layers whose RMS value exceeds a fixed radius of 1e-1 to this
    fixed radius." A filter is one output channel's weights, ``weight[o]`` of
    shape ``(C_in / groups, kH, kW)``; its RMS is ``sqrt(mean(weight[o] ** 2))``.
    Biases and fully connected layers are left alone. Call it after each
    optimiser step: ``fit(model, data, after_step=renormalize_filters_)``.

    Returns:
        How many filters were rescaled.
    """
    _validate.module(model)
    max_rms = _validate.number(max_rms, "max_rms", positive=True)
    rescaled = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight
            rms = weight.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
            too_big = rms > max_rms
            scale = torch.where(too_big, max_rms / rms, torch.ones_like(rms))
            weight.mul_(scale)
            rescaled += int(too_big.sum())
    return rescaled
