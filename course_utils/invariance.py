"""How much a network's features change when the image is moved, scaled or turned.

Zeiler & Fergus (2014), Sec. 4, "Feature Invariance" and Fig. 5: "5 sample
images being translated, rotated and scaled by varying degrees while looking at
the changes in the feature vectors from the top and bottom layers of the model,
relative to the untransformed feature". Fig. 5's columns are the "Euclidean
distance between feature vectors from the original and transformed images in
layers 1 and 7" and "the probability of the true label for each image, as the
image is transformed". The paper states no normalisation of the distance; here
``normalize="relative"`` divides it by the length of the untransformed image's
feature vector, so that layers of very different sizes share one axis
(``normalize="none"`` is the paper's plain distance).

* :func:`transform` -- vertical translation (pixels, positive = down), scale
  (a factor about the centre, > 1 enlarges) and rotation (degrees,
  counter-clockwise on screen, about the centre), bilinear, zero outside the
  image (the background of Fashion-MNIST). Written with
  ``torch.nn.functional.affine_grid`` / ``grid_sample``; the tests check it
  against ``torchvision.transforms.v2.functional.affine``.
* :func:`feature_vectors` -- the flattened outputs of chosen layers, one row per image.
* :func:`distances` -- the Euclidean distance between two sets of feature vectors.
* :func:`invariance` -- the whole of Fig. 5 for one transformation: per image
  and amount, the distance at every chosen layer and the probability of the
  true class.

Every function that runs a model does so inside
``course_utils._state.model_left_as_found`` and on the model's device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found

__all__ = ["KINDS", "distances", "feature_vectors", "invariance", "transform"]

#: The three transformations of Fig. 5 and the unit of their amount.
KINDS = {"translation": "pixels", "scale": "factor", "rotation": "degrees"}
_NORMALIZE = ("none", "relative")


def _check_images(images, name: str = "images") -> torch.Tensor:
    return _validate.tensor(images, name, ndim=4, shape="(N, C, H, W)", floating=True)


def transform(images: torch.Tensor, kind: str, amount: float) -> torch.Tensor:
    """``images`` translated vertically, scaled or rotated about their centre.

    Args:
        images: ``(N, C, H, W)`` float tensor.
        kind: ``"translation"`` (``amount`` in pixels, positive moves the
            content down, as Fig. 5(a) moves it vertically), ``"scale"``
            (``amount`` a factor > 0 about the centre; 2 doubles the size) or
            ``"rotation"`` (``amount`` in degrees, counter-clockwise as seen on
            the screen, about the centre).
        amount: how much (a finite number).

    Returns:
        ``(N, C, H, W)`` tensor on ``images``' device: bilinear interpolation,
        zero where the output pixel comes from outside the image. The centre
        is the centre of the pixel grid (between pixels for even sizes), as in
        torchvision. Translation by a whole number of pixels moves pixels (to
        float32 rounding, about 1e-6); amount 0 (or scale 1, rotation 0)
        returns a copy of the images.

    >>> x = torch.zeros(1, 1, 4, 4); x[0, 0, 0, 1] = 1.0
    >>> transform(x, "translation", 2)[0, 0, 2, 1].item()
    1.0
    >>> transform(x, "rotation", 90)[0, 0].nonzero().tolist()  # (0, 1) -> (2, 0)
    [[2, 0]]
    """
    images = _check_images(images)
    _validate.one_of(kind, "kind", tuple(KINDS))
    amount = _validate.number(amount, "amount", positive=kind == "scale")
    n, _, height, width = images.shape
    # The inverse map, output pixel -> input pixel, in pixel units about the centre.
    matrix = torch.eye(2, dtype=torch.float64, device="cpu")  # small, built on the CPU
    shift = torch.zeros(2, dtype=torch.float64, device="cpu")  # (x, y)
    if kind == "translation":
        shift[1] = -amount
    elif kind == "scale":
        matrix /= amount
    else:
        # Counter-clockwise on screen (y pointing down) by a; output p comes from R(-a) p.
        a = math.radians(amount)
        matrix = torch.tensor(
            [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]],
            dtype=torch.float64,
            device="cpu",
        )
    if torch.equal(matrix, torch.eye(2, dtype=torch.float64, device="cpu")) and not shift.any():
        return images.clone()
    # affine_grid works in normalised units (-1 .. 1 across each side, align_corners=False).
    half = torch.tensor([width / 2, height / 2], dtype=torch.float64, device="cpu")
    theta = torch.cat([matrix * half[None, :] / half[:, None], (shift / half)[:, None]], dim=1).to(
        images.dtype
    )
    grid = F.affine_grid(
        theta.to(images.device).expand(n, 2, 3), list(images.shape), align_corners=False
    )
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _layer_names(model: nn.Module, layers) -> list[str]:
    if isinstance(layers, str | nn.Module):
        layers = [layers]
    names = _validate.items(
        layers,
        "layers",
        lambda layer, name: _validate.submodule(model, layer, name)[0],
        "submodules of the model or their dotted names",
        nonempty=True,
    )
    return list(dict.fromkeys(names))


def _layer_outputs(model: nn.Module, images, layers, batch_size: int) -> dict[str, torch.Tensor]:
    """``{dotted name: (N, ...) output}`` of ``layers`` for ``images``, in batches of
    ``batch_size``, on the model's device; the model is left as found. (The checks and the
    forward passes that :func:`feature_vectors` and ``evolution.map_maxima`` share.)"""
    _validate.module(model)
    images = _check_images(images)
    names = _layer_names(model, layers)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    with model_left_as_found(model):
        images = images.to(device=device_of(model), dtype=dtype_of(model))
        return _run(model, images, names, batch_size)[1]


def _run(model: nn.Module, images: torch.Tensor, names: list[str], batch_size: int):
    """``(scores, {name: (N, ...) output})`` of ``images``, in batches, inside the caller's guard."""
    modules = dict(model.named_modules())
    found: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    handles = [
        modules[name].register_forward_hook(
            lambda module, inputs, output, name=name: found[name].append(output.detach().clone())
        )
        for name in names
    ]
    try:
        with torch.no_grad():
            scores = [model(batch) for batch in images.split(batch_size)]
    finally:
        for handle in handles:
            handle.remove()
    vectors = {name: torch.cat(parts) for name, parts in found.items()}
    for name, vector in vectors.items():
        if len(vector) != len(images):
            raise ValueError(
                f"layer {name!r} ran {len(vector) / len(images):g} times per image in one "
                "forward pass (a module used twice, e.g. one shared ReLU); choose a module "
                "that runs once"
            )
    return torch.cat(scores), vectors


@torch.no_grad()
def feature_vectors(
    model: nn.Module, images: torch.Tensor, layers, *, batch_size: int = 100
) -> dict[str, torch.Tensor]:
    """The output of each layer in ``layers``, flattened: one feature vector per image.

    Args:
        model: any ``nn.Module`` taking ``images``; run in eval mode (no dropout)
            and left as found.
        images: ``(N, C, H, W)`` float tensor.
        layers: a submodule or dotted name, or a list of them (e.g.
            ``["features.3", "classifier.5"]``).
        batch_size: images per forward pass (memory only).

    Returns:
        ``{dotted name: (N, D) tensor}`` on the model's device, in the order of
        ``layers``; ``D`` is the number of values in that layer's output for one
        image (channels x rows x columns for a convolutional layer). A module
        that runs more than once per forward pass (e.g. one ``ReLU`` shared by
        several layers) is refused: its output would be ambiguous.

    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    >>> feature_vectors(model, torch.ones(2, 1, 2, 2), ["0"])["0"].shape
    torch.Size([2, 4])
    """
    return {
        name: output.flatten(1)
        for name, output in _layer_outputs(model, images, layers, batch_size).items()
    }


def distances(
    reference: torch.Tensor, other: torch.Tensor, *, normalize: str = "relative"
) -> torch.Tensor:
    """Euclidean distance between matching rows of two ``(N, D)`` sets of feature vectors.

    Args:
        reference: ``(N, D)``, e.g. the untransformed images' feature vectors.
        other: ``(N, D)``, e.g. the transformed images' feature vectors.
        normalize: ``"none"``: ``||other - reference||`` (the paper's "Euclidean
            distance"); ``"relative"``: divided by ``||reference||`` (0 where
            ``reference`` is all zero and ``other`` too, ``inf`` where only
            ``reference`` is).

    Returns:
        ``(N,)`` float tensor.

    >>> distances(torch.tensor([[3.0, 4.0]]), torch.tensor([[0.0, 0.0]]))
    tensor([1.])
    """
    reference = _validate.tensor(reference, "reference", ndim=2, shape="(N, D)", floating=True)
    other = _validate.tensor(other, "other", ndim=2, shape="(N, D)", floating=True)
    if reference.shape != other.shape:
        raise ValueError(
            f"reference and other must have the same shape, got {tuple(reference.shape)} "
            f"and {tuple(other.shape)}"
        )
    _validate.one_of(normalize, "normalize", _NORMALIZE)
    distance = torch.linalg.vector_norm(other - reference, dim=1)
    if normalize == "relative":
        length = torch.linalg.vector_norm(reference, dim=1)
        distance = torch.where(distance == 0, distance, distance / length)
    return distance


@torch.no_grad()
def invariance(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor | Sequence[int],
    kind: str,
    amounts: Sequence[float],
    layers,
    *,
    normalize: str = "relative",
    batch_size: int = 100,
) -> pd.DataFrame:
    """Fig. 5 of Zeiler & Fergus (2014) for one transformation.

    For every amount, every image is transformed (:func:`transform`) and sent
    through the model; its feature vector at each of ``layers`` is compared with
    the untransformed image's (:func:`distances`), and the softmax probability
    of its true class is read from the model's output.

    Args:
        model: a classifier returning ``(N, classes)`` scores; run in eval mode
            and left as found; the work is done on its device.
        images: ``(N, C, H, W)`` float tensor.
        labels: ``N`` true classes (ints).
        kind: ``"translation"``, ``"scale"`` or ``"rotation"`` (see :func:`transform`).
        amounts: the amounts to try (pixels, factors or degrees); include the
            identity (0, or 1 for scale) to see the starting point.
        layers: as for :func:`feature_vectors`.
        normalize: as for :func:`distances` (``"none"`` is the paper's plain distance).
        batch_size: images per forward pass (memory only).

    Returns:
        A table with one row per amount and image (amount-major), with the columns ``amount``,
        ``image`` (index into ``images``), ``label``, ``probability`` (of the
        true class, 0-1), ``predicted`` (the most probable class), then one
        column per layer, named by its dotted name, with the distance.

    Example::

        model = cu.models.load_pretrained("small_zfnet")
        table = invariance(model, images, labels, "rotation", range(0, 361, 30),
                           ["features.3", "classifier.5"])
        table.groupby("amount")[["features.3", "classifier.5", "probability"]].mean()
    """
    _validate.module(model)
    images = _check_images(images)
    labels = torch.as_tensor(
        _validate.array(labels, "labels", ndim=1, shape="(N,)", integer=True), device="cpu"
    )
    if len(labels) != len(images):
        raise ValueError(f"labels must hold one class per image ({len(images)}), got {len(labels)}")
    _validate.one_of(kind, "kind", tuple(KINDS))
    amounts = _validate.array(amounts, "amounts", ndim=1, shape="(K,)")
    if amounts.size == 0:
        raise ValueError("amounts must hold at least one amount, got none")
    amounts = [_validate.number(float(a), "amounts", positive=kind == "scale") for a in amounts]
    names = _layer_names(model, layers)
    _validate.one_of(normalize, "normalize", _NORMALIZE)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    rows = []
    with model_left_as_found(model):
        images = images.to(device=device_of(model), dtype=dtype_of(model))
        original = {k: v.flatten(1) for k, v in _run(model, images, names, batch_size)[1].items()}
        for amount in amounts:
            scores, moved = _run(model, transform(images, kind, amount), names, batch_size)
            if scores.ndim != 2 or scores.shape[1] <= int(labels.max()):
                raise ValueError(
                    f"model must return (N, classes) scores with a column for every label, "
                    f"got shape {tuple(scores.shape)}"
                )
            probability = scores.softmax(dim=1).cpu()
            row = {
                "amount": float(amount),
                "image": range(len(images)),
                "label": labels.numpy(),
                "probability": probability[torch.arange(len(labels), device="cpu"), labels].numpy(),
                "predicted": probability.argmax(dim=1).numpy(),
            }
            for name in names:
                distance = distances(original[name], moved[name].flatten(1), normalize=normalize)
                row[name] = distance.cpu().numpy()
            rows.append(pd.DataFrame(row))
    return pd.concat(rows, ignore_index=True)
