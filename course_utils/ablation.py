"""Ablation: take parts out of a trained network and measure what its accuracy loses.

Zeiler & Fergus (2014), Sec. 5.1 and Table 3, removed and resized layers of
AlexNet and of their own model and *retrained* each variant ("removing the
fully connected layers (6,7) only gives a slight increase in error", "removing
two of the middle convolutional layers also makes a relatively small
difference", "removing both the middle convolution layers and the fully
connected layers yields a model with only 4 layers whose performance is
dramatically worse"). Without retraining, one can also silence parts of a
trained network and see at once what they contributed:

* :func:`zero_feature_maps` -- while inside the ``with`` block, the chosen
  feature maps (channels) of one layer output zeros; the model is unchanged after.
* :func:`replace_layers` / :func:`remove_layers` -- a *copy* of the model with
  some layers swapped for others (or for ``nn.Identity``); the original is untouched.
* :func:`feature_map_drops` -- zero each feature map of a layer in turn and
  measure the drop in top-k accuracy with :func:`course_utils.train.evaluate`.
* :func:`paper_table3` -- the paper's Table 3; :func:`retrained_variants` -- the
  same experiments at small scale, retrained by ``scripts/train_ablations.py``
  (the results ship with ``course_utils``).

Layers are named as everywhere in ``course_utils``: a submodule or its dotted
name from ``model.named_modules()``, e.g. ``"features.12"`` or ``"classifier.4"``.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from . import _validate
from ._state import device_of, model_left_as_found
from .data import ImageSet
from .train import evaluate

__all__ = [
    "feature_map_drops",
    "paper_table3",
    "remove_layers",
    "replace_layers",
    "retrained_variants",
    "zero_feature_maps",
]


def _channels(channels) -> list[int]:
    """An int, a sequence of ints or an int tensor or array, as a non-empty list of ints >= 0."""
    if isinstance(channels, torch.Tensor | np.ndarray):
        channels = channels.tolist()
    if isinstance(channels, numbers.Integral):
        channels = [channels]
    what = "an int, a list of ints or an int tensor"
    return _validate.items(channels, "channels", _validate.integer, what, nonempty=True, min=0)


@contextmanager
def zero_feature_maps(
    model: nn.Module, layer: str | nn.Module, channels: int | Sequence[int] | torch.Tensor
) -> Iterator[torch.nn.Module]:
    """Inside the ``with`` block, ``layer`` outputs zeros in the maps ``channels``.

    Args:
        model: any ``torch.nn.Module``.
        layer: the submodule whose output is changed, or its dotted name; its
            output must be ``(N, C, ...)`` (a conv layer's ``(N, C, H, W)`` maps,
            or a linear layer's ``(N, C)`` units).
        channels: an int or a sequence of ints in ``[0, C)``.

    Yields:
        ``model`` itself, with a forward hook on ``layer`` that zeroes those
        channels of its output (a new tensor; the layer's weights are not touched).
        The hook is removed when the block ends, even on an error, so the model
        computes exactly what it did before.

    Example::

        with zero_feature_maps(model, "features.12", [3, 7]):
            accuracy = course_utils.train.evaluate(model, test_set)
    """
    _validate.module(model)
    name, module = _validate.submodule(model, layer)
    channels = _channels(channels)

    def hook(_module, _inputs, output):
        if max(channels) >= output.shape[1]:
            raise ValueError(
                f"channels must be below the {output.shape[1]} channels of {name!r}, "
                f"got {max(channels)}"
            )
        output = output.clone()
        output[:, channels] = 0
        return output

    handle = module.register_forward_hook(hook)
    try:
        yield model
    finally:
        handle.remove()


def replace_layers(model: nn.Module, replacements: Mapping) -> nn.Module:
    """A copy of ``model`` in which each named layer is replaced by a new module.

    Args:
        model: any ``torch.nn.Module``; it is deep-copied, never changed.
        replacements: ``{layer: new_module}``, where ``layer`` is a submodule of
            ``model`` or its dotted name. Copies of the new modules go into the copy
            of the model (so nothing of ``model`` is shared with the result, even
            when a new module is one of ``model``'s own); they may be freshly
            initialised layers of another size; the other layers keep ``model``'s weights.

    Returns:
        The modified copy, in ``model``'s train/eval mode.

    Example: Zeiler & Fergus's "adjust layers 6,7" on a small model::

        wider = replace_layers(model, {"classifier.1": nn.Linear(48, 256),
                                       "classifier.4": nn.Linear(256, 256),
                                       "classifier.6": nn.Linear(256, 10)})
    """
    _validate.module(model)
    _validate.instance(replacements, "replacements", Mapping, "a {layer: new_module} dict")
    if not replacements:
        raise ValueError("replacements must name at least one layer, got an empty dict")
    names = {}
    for layer, new in replacements.items():
        name, _ = _validate.submodule(model, layer, "replacements")
        names[name] = _validate.module(new, f"replacements[{name!r}]")
    # One deepcopy of the model and the new modules together: a new module that is
    # (or holds) one of the model's own is copied too, never shared with the original.
    result, news = copy.deepcopy((model, list(names.values())))
    for name, new in zip(names, news, strict=True):
        parent, _, child = name.rpartition(".")
        setattr(result.get_submodule(parent), child, new)
    return result


def remove_layers(model: nn.Module, layers: Sequence[str | nn.Module]) -> nn.Module:
    """A copy of ``model`` in which each of ``layers`` is replaced by ``nn.Identity``.

    The layers around a removed one must fit together (a 64 -> 64 conv can go;
    a 48 -> 64 conv cannot unless its successor is replaced too, see
    :func:`replace_layers`). ``model`` is deep-copied, never changed.

    Args:
        model: any ``torch.nn.Module``.
        layers: a sequence of submodules of ``model`` or of their dotted names.
    """
    _validate.module(model)
    layers = _validate.items(
        layers,
        "layers",
        lambda layer, name: _validate.submodule(model, layer, name)[0],
        "a list of layers or layer names",
        nonempty=True,
    )
    return replace_layers(model, {layer: nn.Identity() for layer in layers})


@torch.no_grad()
def _output_channels(model: nn.Module, module: nn.Module, images: torch.Tensor) -> int:
    """``C`` of ``module``'s ``(N, C, ...)`` output, from one forward pass in eval mode."""
    sizes = []
    with model_left_as_found(model):
        module.register_forward_hook(lambda _m, _i, output: sizes.append(output.shape[1]))
        model(images)
    return sizes[0]


def feature_map_drops(
    model: nn.Module,
    dataset,
    layer: str | nn.Module,
    *,
    channels: int | Sequence[int] | torch.Tensor | None = None,
    k: int = 1,
    batch_size: int = 250,
    progress: bool = False,
) -> pd.DataFrame:
    """Zero each feature map of ``layer`` alone and measure the top-``k`` accuracy it costs.

    Args:
        model: a classifier, e.g. :func:`course_utils.models.load_pretrained`.
        dataset: an :class:`course_utils.data.ImageSet` to measure accuracy on.
        layer: a submodule of ``model`` (or its dotted name) whose output is ``(N, C, ...)``.
        channels: the maps to try, one at a time (default: all ``C``).
        k: top-``k`` accuracy (:func:`course_utils.metrics.topk_accuracy`).
        batch_size: images per forward pass (memory only).
        progress: show a progress bar over the channels.

    Returns:
        A table with one row per channel and the columns ``channel``,
        ``accuracy`` (fraction in [0, 1] with that map zeroed) and ``drop``
        (accuracy of the intact model minus it; negative when silencing the map
        helps), sorted by channel.

    Example:
        >>> import dataclasses, course_utils as cu
        >>> model = cu.models.load_pretrained("small_alexnet")
        >>> test = cu.data.load_fashion_mnist("test", verbose=False)
        >>> few = dataclasses.replace(test, images=test.images[:50], labels=test.labels[:50])
        >>> list(feature_map_drops(model, few, "features.12", channels=[0, 1]).columns)
        ['channel', 'accuracy', 'drop']
    """
    _validate.module(model)
    name, module = _validate.submodule(model, layer)
    k = _validate.integer(k, "k", min=1)
    progress = _validate.flag(progress, "progress")
    if channels is not None:
        channels = _channels(channels)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    _validate.instance(dataset, "dataset", ImageSet, "an ImageSet (e.g. from load_fashion_mnist)")
    count = _output_channels(model, module, dataset.tensors()[0][:1].to(device_of(model)))
    if channels is None:
        channels = list(range(count))
    elif max(channels) >= count:
        raise ValueError(
            f"channels must be below the {count} channels of {name!r}, got {max(channels)}"
        )
    intact = evaluate(model, dataset, k=k, batch_size=batch_size)
    rows = []
    for channel in tqdm(channels, desc=f"zeroing maps of {name}", disable=not progress):
        with zero_feature_maps(model, name, channel):
            accuracy = evaluate(model, dataset, k=k, batch_size=batch_size)
        rows.append({"channel": channel, "accuracy": accuracy, "drop": intact - accuracy})
    return pd.DataFrame(rows)


def _data_file(name: str) -> pd.DataFrame:
    return pd.read_csv(resources.files("course_utils") / "_data" / name)


def paper_table3() -> pd.DataFrame:
    """Zeiler & Fergus (2014), Table 3: ImageNet 2012 error rates of architecture changes.

    One row per line of the table: ``model`` (the network changed: Krizhevsky et
    al.'s AlexNet, as replicated by Zeiler & Fergus, or their own model of
    Fig. 3), ``change`` (the paper's wording), ``variant`` (the name of the same
    change in :func:`retrained_variants`), and ``train_top1_error``,
    ``val_top1_error``, ``val_top5_error`` in percent, as printed. Each variant
    was trained from scratch ("In each case, the model is trained from scratch
    with the revised architecture", Sec. 5.1). Transcribed from the arXiv
    version (1311.2901v3).
    """
    return _data_file("zeiler_fergus_table3.csv")


def retrained_variants() -> pd.DataFrame:
    """The small-scale Table 3 shipped with the course (``scripts/train_ablations.py``).

    One row per model, variant and seed: ``model`` (e.g. ``"small_alexnet"``),
    ``variant`` (as in :func:`paper_table3`), ``paper`` (the change in the
    paper's words, sizes scaled to the small model), ``params`` (number of
    parameters), ``seed``, ``epochs``, ``train_accuracy`` (on the 6,000 training
    images, eval mode, after training) and ``test_accuracy`` (on the 1,000 test
    images), both fractions in [0, 1], and ``seconds`` (wall-clock training time
    on a shared 2-core CPU: a rough guide only).
    """
    return _data_file("ablations.csv")
