"""The small ZFNet at a few moments of its training, for Zeiler & Fergus's Fig. 4.

Zeiler & Fergus (2014), Sec. 4, "Feature Evolution during Training" and Fig. 4:
"the progression during training of the strongest activation (across all
training examples) within a given feature map projected back to pixel space",
for "a randomly chosen subset of features at epochs [1,2,5,10,20,30,40,64]".

``scripts/train_evolution.py`` trains ``small_zfnet`` once (the recipe of the
shipped checkpoint: 12 epochs, seed 0) and keeps its weights after epochs 1, 2,
5 and 12; they ship in ``course_utils/_data/checkpoints/``, with the run's
history. :func:`load_epoch` reads them (SHA-256 checked first, then
``torch.load(..., weights_only=True)``); epoch 0, the initialisation, is rebuilt
from the seed. All of them come from the same run, which is not the run of the
shipped ``small_zfnet.pt`` (see the script).

:func:`strongest_units` finds, for every feature map of a layer, its strongest
activation over a set of images: the unit Fig. 4 projects. :func:`map_maxima`
gives every map's strongest activation in every image, for several layers in
one pass, and :func:`correlation` compares two such tables (both at once:
:func:`response_correlation`); they measure how alike two models' maps respond
over a set of images: a number for "this feature has stopped changing" that
does not rest on one picture.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch
from torch import nn

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found
from .invariance import _layer_names, _layer_outputs, _run
from .models import _load_verified, checkpoint_dir, small_zfnet

__all__ = [
    "CHECKPOINTS",
    "EPOCHS",
    "correlation",
    "history",
    "load_epoch",
    "map_maxima",
    "response_correlation",
    "strongest_units",
]

#: Epoch -> (file name, SHA-256) of the weights written by ``scripts/train_evolution.py``.
CHECKPOINTS = {
    1: (
        "small_zfnet_epoch01.pt",
        "sha256:3c0c4e4d64788e0c7d1bac5866d612be5628f1f10f1ebbf8d512394643488147",
    ),
    2: (
        "small_zfnet_epoch02.pt",
        "sha256:73ea40a7c9fdd0696194d7689d4796effb4da948d4df167ac711fdd837d96405",
    ),
    5: (
        "small_zfnet_epoch05.pt",
        "sha256:5abea4cc6427c1f3fb6b2a2b1586cfdd7534883882a6b310c8198c4194ae63f4",
    ),
    12: (
        "small_zfnet_epoch12.pt",
        "sha256:9f43567e9f0e5eb997fdbfb70ed54b33119f8e8a86e9544c130213720172e409",
    ),
}
#: The epochs :func:`load_epoch` knows: 0 (the initialisation) and the stored ones.
EPOCHS = (0, *CHECKPOINTS)
_SEED = 0  # the seed of the run (RECIPE["seed"] of scripts/train_checkpoints.py)


def history() -> pd.DataFrame:
    """The run's history (``small_zfnet_evolution.csv``), as :func:`course_utils.train.fit` returns it.

    One row per epoch: ``epoch``, ``train_loss``, ``train_accuracy``,
    ``test_accuracy`` (fractions, on the embedded 1,000-image test set) and
    ``seconds`` (wall-clock, on a shared machine: a rough guide only).
    """
    return pd.read_csv(checkpoint_dir() / "small_zfnet_evolution.csv")


def load_epoch(epoch: int, *, path: str | Path | None = None) -> nn.Module:
    """The small ZFNet as it was at the end of ``epoch``, in eval mode.

    Args:
        epoch: one of :data:`EPOCHS`: 0 is the initialisation (rebuilt as the
            script built it: PyTorch seeded with 0, then ``small_zfnet()``);
            1, 2, 5, 12 are read from the shipped files.
        path: read the checkpoint from here instead of the shipped file (the
            checksum is still the shipped one).

    Returns:
        A :func:`course_utils.models.small_zfnet` on the CPU.

    Raises:
        ValueError: ``epoch`` is not one of :data:`EPOCHS`.
        FileNotFoundError: the checkpoint file is missing.
        course_utils.download.ChecksumError: the file is not the shipped one
            (nothing is loaded).

    Example::

        models = {epoch: load_epoch(epoch) for epoch in EPOCHS}
    """
    epoch = _validate.one_of(_validate.integer(epoch, "epoch", min=0), "epoch", EPOCHS)
    if epoch == 0:
        if path is not None:
            raise ValueError("path must be None for epoch 0 (the initialisation is not a file)")
        # The script seeded everything, then built the model: only PyTorch's generator
        # is drawn from. fork_rng leaves the caller's random stream as it was.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(_SEED)
            return small_zfnet().eval()
    filename, expected = CHECKPOINTS[epoch]
    path = _validate.path(path, "path") if path is not None else checkpoint_dir() / filename
    return _load_verified(
        small_zfnet, path, expected, f"checkpoint of epoch {epoch}", "train_evolution.py"
    )


def _check_images(images) -> torch.Tensor:
    return _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)


def strongest_units(
    model: nn.Module, images: torch.Tensor, layer, *, batch_size: int = 100
) -> pd.DataFrame:
    """For every feature map of ``layer``: its strongest activation over ``images``, and where.

    Fig. 4 projects "the strongest activation (across all training examples)
    within a given feature map"; this is that unit, for every map at once (the
    same as ``cu.deconvnet.top_activations(model, images, layer, k=1)``, which
    the tests check, from one forward pass).

    Args:
        model: a CNN; run in eval mode and left as found, on its device.
        images: ``(N, C, H, W)`` float tensor.
        layer: a submodule or its dotted name, with ``(N, C, H, W)`` output.
        batch_size: images per forward pass (memory only).

    Returns:
        One row per map, with the columns ``channel``, ``image`` (index into ``images``), ``row``,
        ``column`` (in the layer's output map) and ``activation``. Ties keep the
        earlier image, then the earlier position.
    """
    _validate.module(model)
    images = _check_images(images)
    names = _layer_names(model, layer)
    if len(names) != 1:
        raise ValueError(f"layer must be one submodule or dotted name, got {len(names)}")
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    with model_left_as_found(model):
        images = images.to(device=device_of(model), dtype=dtype_of(model))
        maps = _run(model, images, names, batch_size)[1][names[0]]
    if maps.dim() != 4:
        raise ValueError(
            f"layer {names[0]!r} must give (N, C, H, W) feature maps, got shape {tuple(maps.shape)}"
        )
    width = maps.shape[3]
    maps = maps.flatten(2)
    best, where = maps.max(dim=2)  # each image's strongest position, per map (first on ties)
    activation, image = best.max(dim=0)  # the strongest image, per map (first on ties)
    position = where.gather(0, image[None])[0]
    return pd.DataFrame(
        {
            "channel": range(maps.shape[1]),
            "image": image.cpu().numpy(),
            "row": (position // width).cpu().numpy(),
            "column": (position % width).cpu().numpy(),
            "activation": activation.cpu().numpy(),
        }
    )


def map_maxima(
    model: nn.Module, images: torch.Tensor, layers, *, batch_size: int = 100
) -> dict[str, torch.Tensor]:
    """Each feature map's strongest activation in each image, for several layers in one pass.

    Args:
        model: a CNN; run in eval mode and left as found, on its device.
        images: ``(N, C, H, W)`` float tensor.
        layers: a submodule or dotted name, or a list of them, each with
            ``(N, C, H, W)`` output (a flat ``(N, D)`` output counts as ``D`` maps of one value).
        batch_size: images per forward pass (memory only).

    Returns:
        ``{dotted name: (N, maps) tensor}`` on the model's device: entry
        ``[n, c]`` is the maximum of map ``c`` over its positions in image ``n``.
        ``result[name].argmax(dim=0)`` is each map's strongest image (the one
        :func:`strongest_units` finds; the first on ties).
    """
    return {
        name: maps.flatten(2).amax(dim=2) if maps.dim() > 2 else maps
        for name, maps in _layer_outputs(model, images, layers, batch_size).items()
    }


def correlation(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Pearson correlation, over the rows, between every column of ``first`` and of ``second``.

    Args:
        first, second: ``(N, C)`` and ``(N, D)`` float tensors, ``N >= 2`` (e.g.
            two epochs' :func:`map_maxima` of one layer, over the same images).

    Returns:
        ``(C, D)`` float tensor on the CPU (computed in float64): entry ``[c, d]``
        correlates column ``c`` of ``first`` with column ``d`` of ``second``.
        A constant column gives NaN.

    >>> x = torch.tensor([[1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> correlation(x, -x)[0].tolist()
    [-1.0, 0.0]
    """
    first = _validate.tensor(first, "first", ndim=2, shape="(N, C)", floating=True)
    second = _validate.tensor(second, "second", ndim=2, shape="(N, D)", floating=True)
    if len(first) != len(second) or len(first) < 2:
        raise ValueError(
            f"first and second must have the same number of rows, at least 2, got "
            f"{len(first)} and {len(second)}"
        )
    a, b = (x.detach().double().cpu() for x in (first, second))
    a = (a - a.mean(dim=0)) / a.std(dim=0)
    b = (b - b.mean(dim=0)) / b.std(dim=0)
    return (a.T @ b / (len(a) - 1)).float()


def response_correlation(
    model: nn.Module, other: nn.Module, images: torch.Tensor, layer, *, batch_size: int = 100
) -> torch.Tensor:
    """How alike each feature map of ``layer`` responds in two models, over a set of images.

    For map ``c``, each image is summarised by the map's strongest activation
    (:func:`map_maxima`); the result is the Pearson correlation
    (:func:`correlation`), over the images, between the two models' summaries.
    1: the map ranks the images the same way (up to scale and offset) in both
    models; about 0: unrelated. A map that is constant over the images in
    either model gives NaN.

    Args:
        model, other: two networks with the same layer names (e.g. two epochs of
            one training run); both run in eval mode and are left as found.
            ``other`` runs on its own device.
        images: ``(N, C, H, W)`` float tensor, ``N >= 2``.
        layer: a dotted name (looked up in both models).
        batch_size: images per forward pass (memory only).

    Returns:
        ``(C, C)`` float tensor on the CPU: entry ``[c, d]`` correlates map
        ``c`` of ``model`` with map ``d`` of ``other``; the diagonal compares
        each map with itself, the off-diagonal entries are the control
        (different maps).

    Example::

        r = response_correlation(load_epoch(5), load_epoch(12), images, "features.12")
        r.diagonal().mean(), r[~torch.eye(len(r), dtype=bool)].mean()
    """
    _validate.module(model)
    _validate.module(other, "other")
    images = _check_images(images)
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 images, got {len(images)}")
    name = _validate.text(layer, "layer")
    first = map_maxima(model, images, name, batch_size=batch_size)[name]
    second = map_maxima(other, images, name, batch_size=batch_size)[name]
    if first.shape[1] != second.shape[1]:
        raise ValueError(
            f"layer {name!r} has {first.shape[1]} maps in model and {second.shape[1]} in other"
        )
    return correlation(first, second)
