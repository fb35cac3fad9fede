"""Occlusion sensitivity: slide a grey square over the image and watch the network's answer.

Zeiler & Fergus (2014), Sec. 4.2 and Fig. 7: "we systematically occlud[e]
different portions of the input image with a grey square, and monitor the output
of the classifier". For each position of the square the figure shows

* (b) the total activation of one feature map of layer 5, the one with the
  strongest response in the unoccluded image;
* (d) the probability of the correct class;
* (e) the most probable class.

:func:`occlusion_maps` computes these three views for any model and any layer,
and :func:`plot_maps` draws them as the paper does. :func:`occlusion_attribution`
turns the same experiment into a per-pixel map, with Captum's ``Occlusion``
conventions (Captum's docs; the method is the paper's): each pixel gets the mean
drop of the output over the windows that cover it. :func:`part_correspondence` is
the paper's Sec. 4.3 measure: does hiding the same part of several images change
a layer's features in the same way?

**Where the windows go** (as Captum places them): along a side of ``size``
pixels, a ``window``-wide square starts at ``0, stride, 2 * stride, ...``, and
there are ``ceil((size - window) / stride) + 1`` positions, so the whole side
is covered; when ``stride`` does not divide ``size - window``, the last square
hangs over the edge and is cut off there. The square covers every channel.

**Batching.** The occluded copies of one image differ only inside their
squares, so they are built together (one ``torch.where`` with a stack of masks)
and sent through the model in batches. The batch size comes from a memory
budget: one unoccluded forward pass measures what one image costs (its input
plus every layer's output), and a batch holds as many copies as fit in
``memory_mb``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle
from torch import nn
from tqdm.auto import tqdm

from . import _validate
from .plotting import COLORS

__all__ = [
    "OcclusionMaps",
    "occlusion_attribution",
    "occlusion_maps",
    "part_correspondence",
    "plot_maps",
    "window_starts",
]


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """First pixel of each window along a side of ``size`` pixels (Captum's placement).

    ``ceil((size - window) / stride) + 1`` windows starting at ``0, stride, ...``;
    the last may run past the edge (it is then cut off). E.g. ``window_starts(10, 4, 4)``
    is ``[0, 4, 8]``: the last window covers only pixels 8 and 9.
    """
    size = _validate.integer(size, "size", min=1)
    window = _validate.integer(window, "window", min=1, max=size)
    stride = _validate.integer(stride, "stride", min=1, max=window)
    return [k * stride for k in range(math.ceil((size - window) / stride) + 1)]


def _masks(height: int, width: int, window, stride) -> torch.Tensor:
    """``(P, H, W)`` bool: one True square per window position, row by row."""
    rows = torch.arange(height)
    cols = torch.arange(width)
    row_in = torch.stack(
        [(rows >= r) & (rows < r + window[0]) for r in window_starts(height, window[0], stride[0])]
    )
    col_in = torch.stack(
        [(cols >= c) & (cols < c + window[1]) for c in window_starts(width, window[1], stride[1])]
    )
    return (row_in[:, None, :, None] & col_in[None, :, None, :]).reshape(-1, height, width)


def _check(model, images, window, stride, baseline, memory_mb, progress):
    _validate.module(model)
    _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)
    height, width = images.shape[-2:]
    window = _validate.pair(window, "window")
    stride = _validate.pair(stride, "stride")
    if window[0] > height or window[1] > width:
        raise ValueError(f"window must fit in the {height}x{width} images, got {window}")
    if stride[0] > window[0] or stride[1] > window[1]:
        raise ValueError(
            f"stride must be at most the window {window} (or pixels would be skipped), got {stride}"
        )
    baseline = _validate.number(baseline, "baseline")
    _validate.number(memory_mb, "memory_mb", positive=True)
    progress = _validate.flag(progress, "progress")
    return window, stride, baseline, progress


def _check_target(target, num_images: int) -> torch.Tensor:
    """``target`` as an ``(N,)`` int64 tensor of classes ``>= 0`` (see :func:`_check_classes`)."""
    if isinstance(target, torch.Tensor):
        if target.dtype != torch.int64 or target.shape not in ((), (num_images,)):
            raise ValueError(
                f"target must be an int or an (N,) int64 tensor with N = {num_images}, "
                f"got {target.dtype} of shape {tuple(target.shape)}"
            )
        target = target.expand(num_images)
    else:
        target = torch.full((num_images,), _validate.integer(target, "target"))
    return _check_classes(target, None)


def _check_classes(target: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    """``target`` itself, if every class is in ``[0, num_classes)`` (``None``: any ``>= 0``)."""
    if target.min() < 0 or (num_classes is not None and target.max() >= num_classes):
        classes = "a class >= 0" if num_classes is None else f"a class in [0, {num_classes})"
        raise ValueError(
            f"target must be {classes}, got values from {int(target.min())} to {int(target.max())}"
        )
    return target


def _batch_size(model: nn.Module, image: torch.Tensor, memory_mb: float) -> int:
    """How many copies of ``image`` fit in ``memory_mb``: input + every layer's output, once."""
    sizes = [image.numel() * image.element_size()]

    def record(_module, _inputs, output):
        if isinstance(output, torch.Tensor):
            sizes.append(output.numel() * output.element_size())

    handles = [m.register_forward_hook(record) for m in model.modules() if not list(m.children())]
    try:
        model(image[None])
    finally:
        for handle in handles:
            handle.remove()
    return max(1, int(memory_mb * 2**20 // sum(sizes)))


def _occluded(
    image: torch.Tensor, masks: torch.Tensor, baseline: float, batch_size: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of ``(masks, copies)``: ``image`` with a ``baseline`` square where each mask is True."""
    for batch in masks.split(batch_size):
        yield batch, torch.where(batch[:, None], baseline, image)


@dataclass(frozen=True)
class OcclusionMaps:
    """The three views of Zeiler & Fergus (2014), Fig. 7 (b, d, e), for ``N`` images.

    Entry ``[n, i, j]`` belongs to image ``n`` with the square's top-left corner at
    pixel ``(rows[i], cols[j])``.

    Attributes:
        activation: ``(N, R, S)`` float, total activation (sum over positions) of
            feature map ``channel[n]`` of the layer, with the square there (Fig. 7b).
        probability: ``(N, R, S)`` float in [0, 1], softmax probability of
            ``target[n]`` (Fig. 7d).
        label: ``(N, R, S)`` int64, most probable class (Fig. 7e).
        channel: ``(N,)`` int64, the feature map of ``activation``.
        target: ``(N,)`` int64, the class of ``probability``.
        unoccluded: ``(N, 3)`` float, the three views without a square
            (activation, probability, most probable class as a float).
        rows, cols: top-left pixel of each window position (:func:`window_starts`).
        window: ``(height, width)`` of the square, pixels.
    """

    activation: torch.Tensor
    probability: torch.Tensor
    label: torch.Tensor
    channel: torch.Tensor
    target: torch.Tensor
    unoccluded: torch.Tensor
    rows: list[int]
    cols: list[int]
    window: tuple[int, int]

    def __post_init__(self):
        _validate.tensor(self.activation, "activation", ndim=3, shape="(N, R, S)")
        n, r, s = self.activation.shape
        shapes = {"probability": (n, r, s), "label": (n, r, s), "channel": (n,), "target": (n,)}
        for name, shape in {**shapes, "unoccluded": (n, 3)}.items():
            if _validate.tensor(getattr(self, name), name).shape != shape:
                raise ValueError(f"{name} must have shape {shape} (from activation's (N, R, S))")
        for name, length in (("rows", r), ("cols", s)):
            starts = _validate.items(getattr(self, name), name, _validate.integer, "a list of ints")
            if len(starts) != length:
                raise ValueError(f"{name} must hold {length} starts (from activation's shape)")
        _validate.pair(self.window, "window")


@torch.no_grad()
def occlusion_maps(
    model: nn.Module,
    images: torch.Tensor,
    target: int | torch.Tensor,
    *,
    layer: str | nn.Module,
    window: int | tuple[int, int],
    stride: int | tuple[int, int],
    baseline: float = 0.0,
    channel: int | None = None,
    memory_mb: float = 256.0,
    progress: bool = True,
) -> OcclusionMaps:
    """Slide a ``baseline`` square over each image; record Fig. 7's three views.

    Args:
        model: a classifier returning ``(N, K)`` class scores; run in eval mode
            (its mode is restored afterwards).
        images: ``(N, C, H, W)`` float tensor, as the model takes it.
        target: the correct class, an int or an ``(N,)`` int64 tensor, in ``[0, K)``.
        layer: the layer (a submodule of ``model`` or its dotted name) whose
            feature map is watched; its output is ``(N, C', H', W')``.
        window: side of the square, pixels: an int or ``(height, width)``.
        stride: step between positions, pixels, ``1 <= stride <= window``.
        baseline: the square's value. The paper's square is "grey"; for inputs
            with the mean subtracted (as the paper's), 0 is the mean pixel.
        channel: the feature map to watch; ``None`` picks, for each image, the
            map whose largest activation on the unoccluded image is highest
            ("the strongest response", the paper's choice).
        memory_mb: budget, in MiB, for one batch of occluded copies and their activations.
        progress: show a progress bar when an image needs more than one batch.

    Returns:
        An :class:`OcclusionMaps`.
    """
    window, stride, baseline, progress = _check(
        model, images, window, stride, baseline, memory_mb, progress
    )
    name, module = _validate.submodule(model, layer)
    target = _check_target(target, len(images))
    if channel is not None:
        channel = _validate.integer(channel, "channel", min=0)
    was_training = model.training
    model.eval()
    # Per-map totals and maxima, taken in the hook itself: a following in-place
    # ReLU would otherwise change the captured output afterwards.
    captured = []
    handle = None
    try:
        batch_size = _batch_size(model, images[0], memory_mb)
        handle = module.register_forward_hook(
            lambda _m, _i, out: captured.append((out.flatten(2).sum(2), out.flatten(2).amax(2)))
        )
        scores = model(images)
        totals, maxima = captured.pop()
        if channel is not None and channel >= totals.shape[1]:
            raise ValueError(f"channel must be below the {totals.shape[1]} maps of {name!r}")
        _check_classes(target, scores.shape[1])
        channels = maxima.argmax(dim=1) if channel is None else torch.full((len(images),), channel)
        masks = _masks(*images.shape[-2:], window, stride)
        total = math.ceil(len(masks) / batch_size)
        views = torch.empty(3, len(images), len(masks), dtype=scores.dtype)
        for n, image in enumerate(images):
            done = 0
            batches = _occluded(image, masks, baseline, batch_size)
            for _, copies in tqdm(batches, total=total, disable=not progress or total == 1):
                out = model(copies)
                part = slice(done, done + len(copies))
                views[0, n, part] = captured.pop()[0][:, channels[n]]
                views[1, n, part] = out.softmax(dim=1)[:, target[n]]
                views[2, n, part] = out.argmax(dim=1).to(scores.dtype)
                done += len(copies)
    finally:
        if handle is not None:
            handle.remove()
        model.train(was_training)
    index = torch.arange(len(images))
    unoccluded = torch.stack(
        [
            totals[index, channels],
            scores.softmax(dim=1)[index, target],
            scores.argmax(dim=1).to(scores.dtype),
        ],
        dim=1,
    )
    rows = window_starts(images.shape[-2], window[0], stride[0])
    cols = window_starts(images.shape[-1], window[1], stride[1])
    views = views.reshape(3, len(images), len(rows), len(cols))
    return OcclusionMaps(
        activation=views[0],
        probability=views[1],
        label=views[2].long(),
        channel=channels,
        target=target,
        unoccluded=unoccluded,
        rows=rows,
        cols=cols,
        window=window,
    )


@torch.no_grad()
def occlusion_attribution(
    model: nn.Module,
    images: torch.Tensor,
    target: int | torch.Tensor,
    *,
    window: int | tuple[int, int],
    stride: int | tuple[int, int],
    baseline: float = 0.0,
    memory_mb: float = 256.0,
    progress: bool = True,
) -> torch.Tensor:
    """Per-pixel occlusion sensitivity: the mean drop of the target's score when the pixel is hidden.

    Equals ``captum.attr.Occlusion(model).attribute(images, sliding_window_shapes=(C,
    *window), strides=(C, *stride), baselines=baseline, target=target)`` (tested):
    each square covers every channel; for each window position the drop is
    ``model(images)[n, target] - model(occluded)[n, target]`` (raw scores, as
    the model returns them); each pixel gets the mean drop over the windows
    that cover it.

    Args:
        model: a classifier returning ``(N, K)`` scores; run in eval mode (restored after).
        images: ``(N, C, H, W)`` float tensor.
        target: an int or an ``(N,)`` int64 tensor of classes in ``[0, K)``.
        window: side of the square, pixels: an int or ``(height, width)``.
        stride: step between positions, pixels, ``1 <= stride <= window``.
        baseline: the square's value.
        memory_mb: budget, in MiB, for one batch of occluded copies and their activations.
        progress: show a progress bar when an image needs more than one batch.

    Returns:
        ``(N, C, H, W)`` float tensor (the same for every channel), in the units
        of the model's output; positive where hiding the pixel lowers the score.
    """
    window, stride, baseline, progress = _check(
        model, images, window, stride, baseline, memory_mb, progress
    )
    target = _check_target(target, len(images))
    was_training = model.training
    model.eval()
    try:
        scores = model(images)
        _check_classes(target, scores.shape[1])
        masks = _masks(*images.shape[-2:], window, stride)
        batch_size = _batch_size(model, images[0], memory_mb)
        total = math.ceil(len(masks) / batch_size)
        drops = torch.empty(len(images), len(masks), dtype=scores.dtype)
        for n, image in enumerate(images):
            done = 0
            batches = _occluded(image, masks, baseline, batch_size)
            for batch, copies in tqdm(batches, total=total, disable=not progress or total == 1):
                drops[n, done : done + len(batch)] = (
                    scores[n, target[n]] - model(copies)[:, target[n]]
                )
                done += len(batch)
    finally:
        model.train(was_training)
    # Mean over the windows covering each pixel: sum of drops / number of windows.
    masks = masks.to(scores.dtype)
    attribution = torch.einsum("np,phw->nhw", drops, masks) / masks.sum(dim=0)
    return attribution[:, None].expand_as(images).to(images.dtype).clone()


def plot_maps(
    maps: OcclusionMaps,
    pictures: torch.Tensor | np.ndarray,
    class_names: Sequence[str],
    *,
    row: int = 0,
    title: str | None = None,
) -> plt.Figure:
    """Fig. 7 of Zeiler & Fergus (2014) for one image: the image and views (b), (d), (e).

    Args:
        maps: from :func:`occlusion_maps`.
        pictures: the images as they should be shown (e.g. the photo before
            normalisation): ``(N, H, W)`` grey or ``(N, H, W, 3)`` colour, or
            ``(N, 1 or 3, H, W)`` tensors, with values in [0, 1].
        class_names: the model's class names, indexed by class.
        row: which image of ``maps`` to show.
        title: title of the figure.

    Each map is drawn at the positions of the square's centre, on the image's
    pixel grid, so it lines up with the image; in (e) each class that occurs
    gets a colour and a legend entry.
    """
    _validate.instance(maps, "maps", OcclusionMaps, "an OcclusionMaps (from occlusion_maps)")
    pictures = _validate.array(pictures, "pictures")
    if pictures.ndim not in (3, 4) or len(pictures) != len(maps.target):
        raise ValueError(
            f"pictures must hold the {len(maps.target)} images of maps, (N, H, W), "
            f"(N, H, W, 3) or (N, 1 or 3, H, W), got shape {pictures.shape}"
        )
    class_names = _validate.items(class_names, "class_names", _validate.text, "a list of str")
    shown = max(int(maps.target.max()), int(maps.label.max()))
    if len(class_names) <= shown:
        raise ValueError(f"class_names must name classes 0 to {shown}, got {len(class_names)}")
    n = _validate.integer(row, "row", min=0, max=len(maps.target) - 1)
    _validate.text(title, "title", optional=True)
    picture = torch.as_tensor(np.asarray(pictures[n], dtype=np.float32))
    if picture.dim() == 3 and picture.shape[0] in (1, 3):
        picture = picture.permute(1, 2, 0)
    picture = picture.squeeze(-1).clamp(0, 1).numpy()
    (h, w), step = (
        maps.window,
        (
            (maps.rows[1] - maps.rows[0]) if len(maps.rows) > 1 else maps.window[0],
            (maps.cols[1] - maps.cols[0]) if len(maps.cols) > 1 else maps.window[1],
        ),
    )
    # Centres of the squares, each cell of a map one stride wide.
    extent = (
        maps.cols[0] + w / 2 - step[1] / 2,
        maps.cols[-1] + w / 2 + step[1] / 2,
        maps.rows[-1] + h / 2 + step[0] / 2,
        maps.rows[0] + h / 2 - step[0] / 2,
    )
    fig, axes = plt.subplots(2, 2, figsize=(7.6, 6.4))
    axes = axes.flat
    axes[0].imshow(picture, cmap="gray", vmin=0, vmax=1)
    worst = int(maps.probability[n].argmin())  # where the square hurts most, as in (d)
    top, left = maps.rows[worst // len(maps.cols)], maps.cols[worst % len(maps.cols)]
    axes[0].add_patch(Rectangle((left - 0.5, top - 0.5), w, h, color=COLORS["grey"], alpha=0.85))
    axes[0].set_title(
        f"(a) {class_names[int(maps.target[n])]}, square where (d) is lowest", fontsize=9
    )
    intact = maps.unoccluded[n]
    views = [
        (
            maps.activation[n],
            f"(b) map {int(maps.channel[n])}, total (intact {intact[0]:.2f})",
            None,
        ),
        (maps.probability[n], f"(d) P(that class) (intact {intact[1]:.2f})", (0, 1)),
    ]
    for ax, (view, name, limits) in zip(axes[1:3], views, strict=True):
        vmin, vmax = limits or (None, None)
        image = ax.imshow(view.numpy(), cmap="viridis", extent=extent, vmin=vmin, vmax=vmax)
        unit = "activation" if limits is None else "probability"
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03)
        bar.set_label(unit, fontsize=8)  # the size of the axis labels
        ax.set_title(name, fontsize=9)
    labels = maps.label[n]
    present = labels.unique().tolist()
    palette = list(COLORS.values())
    colours = ListedColormap([palette[i % len(palette)] for i in range(len(present))])
    codes = torch.searchsorted(torch.tensor(present), labels)
    axes[3].imshow(codes.numpy(), cmap=colours, vmin=-0.5, vmax=len(present) - 0.5, extent=extent)
    axes[3].set_title("(e) most probable class", fontsize=9)
    handles = [
        Rectangle((0, 0), 1, 1, color=colours(i), label=class_names[c])
        for i, c in enumerate(present)
    ]
    axes[3].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8)
    for i, ax in enumerate(axes):
        ax.set_xlim(-0.5, picture.shape[1] - 0.5)
        ax.set_ylim(picture.shape[0] - 0.5, -0.5)
        where = "" if i == 0 else "square's centre, "
        ax.set_xlabel(f"{where}column (pixels)", fontsize=8)
        ax.set_ylabel(f"{where}row (pixels)", fontsize=8)
        ax.grid(False)
    if title:
        fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


@torch.no_grad()
def part_correspondence(
    model: nn.Module,
    images: torch.Tensor,
    masks: torch.Tensor,
    *,
    layer: str | nn.Module,
    baseline: float = 0.0,
) -> float:
    """How consistently hiding "the same part" of several images changes a layer's features.

    Zeiler & Fergus (2014), Sec. 4.3 and Table 1: for each image ``i``, with
    ``x_i`` its features at ``layer`` and ``x~_i`` those with the part hidden,
    ``eps_i = x_i - x~_i``; then ``Delta = sum over pairs i != j of
    H(sign(eps_i), sign(eps_j))``, ``H`` the Hamming distance. The paper does not
    say how its values (0.067 to 0.107) are scaled; here ``H`` is the *fraction*
    of features whose signs differ and the sum is a mean over the ordered pairs,
    so 0 means "every image changed the same way" and the result lies in [0, 1].

    Args:
        model: any ``torch.nn.Module`` (run in eval mode, restored after).
        images: ``(N, C, H, W)`` float tensor, ``N >= 2`` images of one kind of object.
        masks: ``(N, H, W)`` bool tensor, True on the part to hide in each image.
        layer: the layer (submodule or dotted name) whose output are the features.
        baseline: the value the hidden part is set to.

    Returns:
        ``Delta``, a float in [0, 1]; lower means a more consistent change.
    """
    _validate.module(model)
    _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)
    _validate.tensor(masks, "masks", ndim=3, shape="(N, H, W)")
    if masks.dtype != torch.bool or masks.shape != (len(images), *images.shape[-2:]):
        raise ValueError(
            f"masks must be a bool tensor of shape (N, H, W) = {(len(images), *images.shape[-2:])}, "
            f"got {masks.dtype} {tuple(masks.shape)}"
        )
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 images to compare, got {len(images)}")
    baseline = _validate.number(baseline, "baseline")
    _, module = _validate.submodule(model, layer)
    features = []
    handle = module.register_forward_hook(
        lambda _m, _i, out: features.append(out.flatten(1).clone())
    )
    was_training = model.training
    try:
        model.eval()(images)
        model(torch.where(masks[:, None], baseline, images))
    finally:
        handle.remove()
        model.train(was_training)
    signs = torch.sign(features[0] - features[1])  # (N, D): sign of eps_i
    differ = (signs[:, None, :] != signs[None, :, :]).float().mean(dim=2)  # (N, N) Hamming
    n = len(images)
    return float(differ.sum() / (n * (n - 1)))  # the diagonal is 0
