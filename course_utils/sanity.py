"""Sanity checks for explanation maps: do they depend on the network, and on the unit?

A deconvnet projection, a gradient or a guided-backpropagation map looks like
an explanation. Two checks ask whether it behaves like one.

**Cascading randomisation** (Adebayo et al. 2018, "Sanity checks for saliency
maps", Sec. 3.1): re-initialise the network's layers one after the other, from
the top down, and compare each map with the trained network's. A map that
explains what the network learned must change when the weights it learned are
gone; a map that stays the same is telling us about the image (and the
architecture), not the learned weights. Adebayo et al. compare with the rank
correlation of the two maps (Spearman's rho), with and without absolute values.

**Same unit against different units** (the control of Mahendran & Vedaldi 2016,
"Salient deconvolutional networks", Sec. 4): if the picture shows what a *unit*
responds to, the pictures of one unit on different images should resemble each
other more than the pictures of different units on one image. Compare the
mean pairwise similarity within the two kinds of group.

Everything here is generic: an explanation is any ``explain(model, images)``
returning one map per image, and a group is any set of maps. The model you pass
is left as it was found; randomisation works on a copy.

Example::

    explain = lambda m, x: cu.deconvnet.DeconvNet(m).project(x, "features.8", channel=0)
    table = cascading_randomization(model, images, explain, ["features.8", "features.4"])
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import pandas as pd
import torch
from torch import nn

from . import _validate
from ._state import device_of, model_left_as_found

__all__ = [
    "cascading_randomization",
    "group_similarity",
    "rank_correlation",
    "ranks",
    "strongest_maps",
]


def ranks(values: torch.Tensor) -> torch.Tensor:
    """Ranks (1 = smallest) of each row of ``values`` ``(N, D)``, ties given their mean rank.

    Ties are common in explanation maps (zero outside the receptive field), and
    Spearman's rho gives tied values the average of the ranks they occupy, as
    ``scipy.stats.rankdata`` does by default.

    >>> ranks(torch.tensor([[10.0, 0.0, 0.0, 5.0]])).tolist()
    [[4.0, 1.5, 1.5, 3.0]]
    """
    values = _validate.tensor(values, "values", ndim=2, shape="(N, D)", floating=True)
    out = torch.empty_like(values, dtype=torch.float64)
    for i, row in enumerate(values):
        unique, inverse, counts = torch.unique(row, return_inverse=True, return_counts=True)
        last = counts.cumsum(0).double()  # rank of the last copy of each distinct value
        out[i] = (last - (counts.double() - 1) / 2)[inverse]  # mean rank of its copies
    return out


def rank_correlation(a: torch.Tensor, b: torch.Tensor, *, absolute: bool = False) -> torch.Tensor:
    """Spearman's rank correlation between the maps ``a[i]`` and ``b[i]``, for each ``i``.

    Args:
        a, b: ``(N, ...)`` tensors of the same shape: ``N`` maps each, compared
            pairwise and flattened (every pixel and channel is one value).
        absolute: compare ``|a|`` with ``|b|`` (Adebayo et al. report both: a
            map whose sign flips can still point at the same pixels).

    Returns:
        ``(N,)`` float64 tensor in [-1, 1]: the Pearson correlation of the
        ranks. ``nan`` where a map is constant (its ranks have no spread), as in
        ``scipy.stats.spearmanr``.

    >>> a = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    >>> rank_correlation(a, a**3).round(decimals=6).tolist(), rank_correlation(a, -a).round(decimals=6).tolist()
    ([1.0], [-1.0])
    """
    a = _validate.tensor(a, "a", floating=True)
    b = _validate.tensor(b, "b", floating=True)
    if a.shape != b.shape or a.dim() < 2:
        raise ValueError(
            f"a and b must be (N, ...) tensors of the same shape, got {tuple(a.shape)} "
            f"and {tuple(b.shape)}"
        )
    absolute = _validate.flag(absolute, "absolute")
    a, b = a.detach().flatten(1).cpu(), b.detach().flatten(1).cpu()
    if absolute:
        a, b = a.abs(), b.abs()
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(dim=1, keepdim=True), rb - rb.mean(dim=1, keepdim=True)
    return ((ra * rb).sum(dim=1) / (ra.norm(dim=1) * rb.norm(dim=1))).clamp(-1, 1)


def cascading_randomization(
    model: nn.Module,
    images: torch.Tensor,
    explain: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    layers: Sequence[str | nn.Module],
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Adebayo et al.'s (2018) cascading randomisation test, on a copy of ``model``.

    The layers are re-initialised cumulatively, in the order given (give them
    from the top down, as the paper does): step 1 randomises ``layers[0]``,
    step 2 ``layers[0]`` and ``layers[1]``, and so on. After each step the
    explanation of the randomised copy is compared with the trained model's.

    Args:
        model: the trained network; left exactly as it was found (the layers
            are re-initialised in a deep copy).
        images: ``(N, C, H, W)`` images, as ``explain`` takes them.
        explain: ``explain(model, images) -> (N, ...)`` maps, one per image, e.g.
            ``lambda m, x: DeconvNet(m).project(x, "features.12", channel=3)``. Fix
            everything that should stay fixed (the unit, the class) inside it.
        layers: submodules of ``model`` or their dotted names, each with a
            ``reset_parameters()`` method (``Conv2d``, ``Linear``, ...).
        seed: seeds the new weights (drawn with PyTorch's default
            initialisation, ``reset_parameters``); the global random state is
            left as it was.

    Returns:
        A table with one row per step and image, with the columns ``step`` (1, 2, ...),
        ``randomised`` (the name of the last layer randomised, so the row's
        network has that layer and every one before it in ``layers`` random),
        ``image`` (index into ``images``), ``spearman`` and ``spearman_abs``
        (:func:`rank_correlation` of the maps and of their absolute values).
    """
    model = _validate.module(model, "model")
    images = _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)
    explain = _validate.function(explain, "explain")
    names = [
        _validate.submodule(model, layer, "layers")[0]
        for layer in _validate.items(
            layers, "layers", lambda v, n: v, "a list of layers", nonempty=True
        )
    ]
    seed = _validate.integer(seed, "seed", min=0)
    for name in names:
        if not hasattr(model.get_submodule(name), "reset_parameters"):
            raise ValueError(f"layers: {name!r} has no reset_parameters() to re-initialise it")
    with model_left_as_found(model):
        trained = explain(model, images)
        randomised = copy.deepcopy(model)
    device = device_of(model)
    rows = []
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for step, name in enumerate(names, start=1):
            randomised.get_submodule(name).reset_parameters()
            maps = explain(randomised, images)
            rho = rank_correlation(trained, maps)
            rho_abs = rank_correlation(trained, maps, absolute=True)
            for i in range(len(images)):
                rows.append(
                    {
                        "step": step,
                        "randomised": name,
                        "image": i,
                        "spearman": float(rho[i]),
                        "spearman_abs": float(rho_abs[i]),
                    }
                )
    return pd.DataFrame(rows)


@torch.no_grad()
def strongest_maps(
    model: nn.Module, images: torch.Tensor, layer: str | nn.Module, k: int = 8
) -> pd.DataFrame:
    """For each image, the ``k`` feature maps of ``layer`` with the strongest activation.

    The other half of Mahendran & Vedaldi's control: *different* units on the
    *same* image. Each map is represented by its strongest position in that
    image, so the table can be projected like a
    :func:`course_utils.deconvnet.top_activations` table.

    Args:
        model: any network; ``layer``'s output must be ``(N, C, H, W)``. Run in
            eval mode and left as found.
        images: ``(N, C, H, W)`` images, as ``model`` takes them.
        layer: a submodule of ``model`` or its dotted name.
        k: maps kept per image (at most the number of maps).

    Returns:
        A table with ``N * k`` rows, sorted by ``image`` then ``rank`` (0 =
        strongest map): ``image``, ``rank``, ``channel``, ``row``, ``column``
        (the map's strongest position) and ``activation`` (its value there).
        ``table.attrs["layer"]`` records the layer's name.

    >>> net = nn.Sequential(nn.Conv2d(1, 3, 1, bias=False))
    >>> _ = net[0].weight.data.copy_(torch.tensor([1.0, -1.0, 2.0]).view(3, 1, 1, 1))
    >>> strongest_maps(net, torch.ones(1, 1, 2, 2), "0", k=2)["channel"].tolist()
    [2, 0]
    """
    model = _validate.module(model, "model")
    images = _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)
    name, module = _validate.submodule(model, layer, "layer")
    k = _validate.integer(k, "k", min=1)
    seen = []
    handle = module.register_forward_hook(lambda _m, _i, output: seen.append(output))
    with model_left_as_found(model):
        try:
            model(images.to(device_of(model)))
        finally:
            handle.remove()
    maps = seen[0]
    if maps.dim() != 4:
        raise ValueError(f"layer {name!r} must output (N, C, H, W) maps, got {tuple(maps.shape)}")
    if k > maps.shape[1]:
        raise ValueError(f"k must be at most the {maps.shape[1]} maps of layer {name!r}, got {k}")
    values, where = maps.flatten(2).max(dim=2)  # (N, C): each map's strongest position
    best = values.topk(k, dim=1)  # sorted, strongest first
    position = where.gather(1, best.indices).cpu()
    n = len(images)
    table = pd.DataFrame(
        {
            "image": torch.arange(n).repeat_interleave(k).numpy(),
            "rank": torch.arange(k).repeat(n).numpy(),
            "channel": best.indices.flatten().cpu().numpy(),
            "row": (position // maps.shape[-1]).flatten().numpy(),
            "column": (position % maps.shape[-1]).flatten().numpy(),
            "activation": best.values.flatten().cpu().numpy(),
        }
    )
    table.attrs["layer"] = name  # as top_activations records it
    return table


def group_similarity(
    maps: torch.Tensor, groups: Sequence | torch.Tensor, *, measure: str = "cosine"
) -> pd.Series:
    """Mean pairwise similarity of the maps within each group.

    Args:
        maps: ``(M, ...)`` tensor, one explanation map per row.
        groups: ``M`` labels (ints or strings): maps with the same label form a
            group, e.g. the ``channel`` column of a top-9 table (one unit, nine
            images) or the ``image`` column of a :func:`strongest_maps` table
            (one image, several units). Every group needs at least two maps.
        measure: ``"cosine"`` (cosine similarity of the flattened maps: 1 for
            the same picture up to a positive scale) or ``"spearman"``
            (:func:`rank_correlation`).

    Returns:
        A ``pandas.Series`` indexed by group label, in order of first
        appearance: the mean of the similarity over the ``m (m - 1) / 2``
        pairs of the group's ``m`` maps.

    >>> maps = torch.tensor([[1.0, 0.0], [2.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> group_similarity(maps, [0, 0, 1, 1]).tolist()
    [1.0, 0.0]
    """
    maps = _validate.tensor(maps, "maps", floating=True)
    measure = _validate.one_of(measure, "measure", ("cosine", "spearman"))
    if isinstance(groups, str) or not hasattr(groups, "__iter__"):
        raise TypeError(
            "groups must be M labels (a list, tensor, array or table column), "
            f"got {type(groups).__name__} {groups!r}"
        )
    labels = list(groups.tolist() if hasattr(groups, "tolist") else groups)
    if len(labels) != len(maps):
        raise ValueError(f"groups must have one label per map ({len(maps)}), got {len(labels)}")
    flat = maps.detach().flatten(1).cpu().double()
    members: dict = {}
    for i, label in enumerate(labels):
        members.setdefault(label, []).append(i)
    result = {}
    for label, index in members.items():
        if len(index) < 2:
            raise ValueError(f"groups: group {label!r} has one map; each group needs at least two")
        pairs = torch.combinations(torch.tensor(index), 2)
        a, b = flat[pairs[:, 0]], flat[pairs[:, 1]]
        if measure == "cosine":
            values = torch.nn.functional.cosine_similarity(a, b, dim=1)
        else:
            values = rank_correlation(a, b)
        result[label] = float(values.mean())
    return pd.Series(result, name=f"mean pairwise {measure} similarity")
