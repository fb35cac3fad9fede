"""Occlusion sensitivity: slide a grey square over the image and watch the network's answer.

Zeiler & Fergus (2014), Sec. 4.2 and Fig. 7: "we systematically occlud[e]
different portions of the input image with a grey square, and monitor the output
of the classifier". For each position of the square the figure shows

* (b) the total activation of one feature map of layer 5, the one with the
  strongest response in the unoccluded image;
* (d) the probability of the correct class;
* (e) the most probable class.

:func:`occlusion_maps` computes these three views for any model and any layer,
and :func:`course_utils.plotting.occlusion_panels` draws them as the paper does. :func:`occlusion_attribution`
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
squares, so ``batch_size`` of them are built together (one ``torch.where`` with a
stack of ``batch_size`` masks, made for that batch only) and sent through the
model at once. A batch's copies and masks must fit in ``MEMORY_BUDGET``
bytes (a module constant; set ``course_utils.occlusion.MEMORY_BUDGET`` to change
it), or the call is refused before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found

__all__ = [
    "OcclusionMaps",
    "occlusion_attribution",
    "occlusion_maps",
    "part_correspondence",
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


#: The most memory, in bytes, one batch of occluded copies and their masks may take.
MEMORY_BUDGET = 512 * 2**20


def _masks(height: int, width: int, window, stride, positions: range, device) -> torch.Tensor:
    """``(P, H, W)`` bool: one True square per window position in ``positions`` (row by row)."""
    rows = window_starts(height, window[0], stride[0])
    cols = window_starts(width, window[1], stride[1])
    index = torch.arange(positions.start, positions.stop, device=device)
    top = torch.tensor(rows, device=device)[index // len(cols)]
    left = torch.tensor(cols, device=device)[index % len(cols)]
    r = torch.arange(height, device=device)
    c = torch.arange(width, device=device)
    inside_rows = (r >= top[:, None]) & (r < top[:, None] + window[0])
    inside_cols = (c >= left[:, None]) & (c < left[:, None] + window[1])
    return inside_rows[:, :, None] & inside_cols[:, None, :]


def _check(model, images, window, stride, baseline, batch_size, progress):
    _validate.module(model)
    _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)
    if images.is_meta:
        raise ValueError("images are on the meta device: they need real values")
    if images.dtype != dtype_of(model):
        raise ValueError(
            f"images must have the model's dtype {dtype_of(model)}, got {images.dtype} "
            f"(convert with images.to({dtype_of(model)}))"
        )
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
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    needed = batch_size * images[0].numel() * (images.element_size() + 1)
    if needed > MEMORY_BUDGET:
        raise ValueError(
            f"batch_size {batch_size} needs {needed / 2**20:.0f} MiB of occluded copies and "
            f"masks, over course_utils.occlusion.MEMORY_BUDGET ({MEMORY_BUDGET / 2**20:.0f} "
            "MiB): lower batch_size (or raise MEMORY_BUDGET)"
        )
    progress = _validate.flag(progress, "progress")
    return window, stride, baseline, batch_size, progress


def _check_target(target, num_images: int, device) -> torch.Tensor:
    """``target`` as an ``(N,)`` int64 tensor of classes ``>= 0`` (see :func:`_check_classes`)."""
    if isinstance(target, torch.Tensor):
        if target.dtype != torch.int64 or target.shape not in ((), (num_images,)):
            raise ValueError(
                f"target must be an int or an (N,) int64 tensor with N = {num_images}, "
                f"got {target.dtype} of shape {tuple(target.shape)}"
            )
        target = target.to(device).expand(num_images)
    else:
        target = torch.full((num_images,), _validate.integer(target, "target"), device=device)
    return _check_classes(target, None)


def _check_classes(target: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    """``target`` itself, if every class is in ``[0, num_classes)`` (``None``: any ``>= 0``)."""
    if target.min() < 0 or (num_classes is not None and target.max() >= num_classes):
        classes = "a class >= 0" if num_classes is None else f"a class in [0, {num_classes})"
        raise ValueError(
            f"target must be {classes}, got values from {int(target.min())} to {int(target.max())}"
        )
    return target


def _scores(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``model(images)``, which must be ``(N, K)`` class scores."""
    try:
        scores = model(images)
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        raise ValueError(
            f"model cannot take images of shape {tuple(images.shape)}: {str(error).splitlines()[0]}"
        ) from None
    if not isinstance(scores, torch.Tensor) or scores.dim() != 2:
        what = tuple(scores.shape) if isinstance(scores, torch.Tensor) else type(scores).__name__
        raise ValueError(f"model must return (N, K) class scores as one tensor, got {what}")
    return scores


def _occluded(image, height, width, window, stride, baseline, batch_size):
    """Batches of ``(masks, copies)``: ``image`` with a ``baseline`` square where each mask is True.

    The masks are made batch by batch, so only one batch of them exists at a time.
    """
    count = len(window_starts(height, window[0], stride[0])) * len(
        window_starts(width, window[1], stride[1])
    )
    for start in range(0, count, batch_size):
        masks = _masks(
            height,
            width,
            window,
            stride,
            range(start, min(start + batch_size, count)),
            image.device,
        )
        yield masks, torch.where(masks[:, None], baseline, image)


@dataclass(frozen=True)
class OcclusionMaps:
    """The three views of Zeiler & Fergus (2014), Fig. 7 (b, d, e), for ``N`` images.

    Entry ``[n, i, j]`` belongs to image ``n`` with the square's top-left corner at
    pixel ``(rows[i], cols[j])``. Tensors are on the model's device.

    Attributes:
        activation: ``(N, R, S)`` float, total activation (sum over positions) of
            feature map ``channel[n]`` of the layer, with the square there (Fig. 7b).
        probability: ``(N, R, S)`` float in [0, 1], softmax probability of
            ``target[n]`` (Fig. 7d).
        label: ``(N, R, S)`` int64, most probable class (Fig. 7e).
        channel: ``(N,)`` int64, the feature map of ``activation``.
        target: ``(N,)`` int64, the class of ``probability``.
        unoccluded_activation: ``(N,)`` float, ``activation`` without a square.
        unoccluded_probability: ``(N,)`` float, ``probability`` without a square.
        unoccluded: ``(N,)`` int64, the most probable class without a square.
        rows, cols: top-left pixel of each window position (:func:`window_starts`).
        window: ``(height, width)`` of the square, pixels.
    """

    activation: torch.Tensor
    probability: torch.Tensor
    label: torch.Tensor
    channel: torch.Tensor
    target: torch.Tensor
    unoccluded_activation: torch.Tensor
    unoccluded_probability: torch.Tensor
    unoccluded: torch.Tensor
    rows: list[int]
    cols: list[int]
    window: tuple[int, int]

    def __post_init__(self):
        # A public constructor: its fields are checked once, here (occlusion_maps's own
        # results pass trivially).
        _validate.tensor(self.activation, "activation", ndim=3, shape="(N, R, S)")
        n, r, s = self.activation.shape
        shapes = {
            "probability": (n, r, s),
            "label": (n, r, s),
            "channel": (n,),
            "target": (n,),
            "unoccluded_activation": (n,),
            "unoccluded_probability": (n,),
            "unoccluded": (n,),
        }
        for name, shape in shapes.items():
            if _validate.tensor(getattr(self, name), name, nonempty=False).shape != shape:
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
    layer: str | nn.Module,
    *,
    target: int | torch.Tensor,
    window: int | tuple[int, int],
    stride: int | tuple[int, int],
    baseline: float = 0.0,
    channel: int | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> OcclusionMaps:
    """Slide a ``baseline`` square over each image; record Fig. 7's three views.

    Args:
        model: a classifier returning ``(N, K)`` class scores; run in eval mode
            (every submodule's mode is restored afterwards).
        images: ``(N, C, H, W)`` float tensor with the model's dtype (moved to its device).
        layer: the layer (a submodule of ``model`` or its dotted name) whose
            feature map is watched; its output is ``(N, C', H', W')``.
        target: the correct class, an int or an ``(N,)`` int64 tensor, in ``[0, K)``.
        window: side of the square, pixels: an int or ``(height, width)``.
        stride: step between positions, pixels, ``1 <= stride <= window``.
        baseline: the square's value. The paper's square is "grey"; for inputs
            with the mean subtracted (as the paper's), 0 is the mean pixel.
        channel: the feature map to watch; ``None``: for each image, the strongest
            (the map whose largest rectified activation on the unoccluded image is
            highest, "the strongest response", the paper's choice).
        batch_size: occluded copies per forward pass (memory only; see ``MEMORY_BUDGET``).
        progress: show a progress bar when an image needs more than one batch.

    Returns:
        An :class:`OcclusionMaps`.

    Example:
        >>> import course_utils as cu
        >>> model = cu.models.load_pretrained("small_alexnet")
        >>> images, labels = cu.data.load_fashion_mnist("test", verbose=False).tensors()
        >>> maps = occlusion_maps(model, images[:2], "features.13", target=labels[:2],
        ...                       window=14, stride=7)
        >>> maps.probability.shape, maps.unoccluded.dtype
        (torch.Size([2, 3, 3]), torch.int64)
    """
    window, stride, baseline, batch_size, progress = _check(
        model, images, window, stride, baseline, batch_size, progress
    )
    name, module = _validate.submodule(model, layer)
    device = device_of(model)
    target = _check_target(target, len(images), device)
    if channel is not None:
        channel = _validate.integer(channel, "channel", min=0)
    images = images.to(device)
    height, width = images.shape[-2:]
    # Per-map totals and rectified maxima, taken in the hook itself: a following
    # in-place ReLU would otherwise change the captured output afterwards.
    captured = []
    with model_left_as_found(model):
        module.register_forward_hook(
            lambda _m, _i, out: captured.append(
                (out.flatten(2).sum(2), out.flatten(2).amax(2).clamp(min=0))
            )
        )
        scores = _scores(model, images)
        if not captured:
            raise ValueError(f"layer {name!r} does not run when the model runs on the images")
        totals, maxima = captured.pop()
        if channel is not None and channel >= totals.shape[1]:
            raise ValueError(f"channel must be below the {totals.shape[1]} maps of {name!r}")
        _check_classes(target, scores.shape[1])
        channels = maxima.argmax(dim=1) if channel is None else torch.full_like(target, channel)
        views = []
        for n, image in enumerate(images):
            parts = []
            batches = _occluded(image, height, width, window, stride, baseline, batch_size)
            for _, copies in tqdm(batches, disable=not progress):
                out = model(copies)
                parts.append(
                    torch.stack(
                        [
                            captured.pop()[0][:, channels[n]],
                            out.softmax(dim=1)[:, target[n]],
                            out.argmax(dim=1).to(scores.dtype),
                        ]
                    )
                )
            views.append(torch.cat(parts, dim=1))
    index = torch.arange(len(images), device=device)
    rows = window_starts(height, window[0], stride[0])
    cols = window_starts(width, window[1], stride[1])
    views = torch.stack(views, dim=1).reshape(3, len(images), len(rows), len(cols))
    return OcclusionMaps(
        activation=views[0],
        probability=views[1],
        label=views[2].long(),
        channel=channels,
        target=target,
        unoccluded_activation=totals[index, channels],
        unoccluded_probability=scores.softmax(dim=1)[index, target],
        unoccluded=scores.argmax(dim=1),
        rows=rows,
        cols=cols,
        window=window,
    )


@torch.no_grad()
def occlusion_attribution(
    model: nn.Module,
    images: torch.Tensor,
    *,
    target: int | torch.Tensor,
    window: int | tuple[int, int],
    stride: int | tuple[int, int],
    baseline: float = 0.0,
    batch_size: int = 64,
    progress: bool = False,
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
        images: ``(N, C, H, W)`` float tensor with the model's dtype (moved to its device).
        target: an int or an ``(N,)`` int64 tensor of classes in ``[0, K)``.
        window: side of the square, pixels: an int or ``(height, width)``.
        stride: step between positions, pixels, ``1 <= stride <= window``.
        baseline: the square's value.
        batch_size: occluded copies per forward pass (memory only; see ``MEMORY_BUDGET``).
        progress: show a progress bar when an image needs more than one batch.

    Returns:
        ``(N, C, H, W)`` float tensor on the model's device (the same for every
        channel), in the units of the model's output; positive where hiding the
        pixel lowers the score.

    Example:
        >>> import course_utils as cu
        >>> model = cu.models.load_pretrained("small_alexnet")
        >>> images, labels = cu.data.load_fashion_mnist("test", verbose=False).tensors()
        >>> occlusion_attribution(model, images[:2], target=labels[:2], window=14, stride=7).shape
        torch.Size([2, 1, 28, 28])
    """
    window, stride, baseline, batch_size, progress = _check(
        model, images, window, stride, baseline, batch_size, progress
    )
    device = device_of(model)
    target = _check_target(target, len(images), device)
    images = images.to(device)
    height, width = images.shape[-2:]
    with model_left_as_found(model):
        scores = _scores(model, images)
        _check_classes(target, scores.shape[1])
        # Mean over the windows covering each pixel: sum of drops / number of windows.
        total = images.new_zeros(len(images), height, width, dtype=scores.dtype)
        covering = images.new_zeros(height, width, dtype=scores.dtype)
        for n, image in enumerate(images):
            batches = _occluded(image, height, width, window, stride, baseline, batch_size)
            for masks, copies in tqdm(batches, disable=not progress):
                drops = scores[n, target[n]] - model(copies)[:, target[n]]
                masks = masks.to(scores.dtype)
                total[n] += torch.einsum("p,phw->hw", drops, masks)
                if n == 0:
                    covering += masks.sum(dim=0)
    attribution = total / covering
    return attribution[:, None].expand_as(images).to(images.dtype).clone()


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
    device = device_of(model)
    images, masks = images.to(device), masks.to(device)
    with model_left_as_found(model):
        module.register_forward_hook(lambda _m, _i, out: features.append(out.flatten(1).clone()))
        model(images)
        model(torch.where(masks[:, None], baseline, images))
    signs = torch.sign(features[0] - features[1])  # (N, D): sign of eps_i
    differ = (signs[:, None, :] != signs[None, :, :]).float().mean(dim=2)  # (N, N) Hamming
    n = len(images)
    return float(differ.sum() / (n * (n - 1)))  # the diagonal is 0
