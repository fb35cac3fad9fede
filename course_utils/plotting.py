"""One look for every figure in the course.

Colours are the Okabe-Ito palette (Okabe & Ito 2008), which stays distinct for
readers with colour-vision deficiencies. Figures have a white background so
they read the same in the website's light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import is_color_like
from matplotlib.patches import Rectangle

from . import _validate

__all__ = ["COLORS", "draw_box", "mosaic", "show_images", "use_course_style"]

#: Named colours, used the same way in every chapter (e.g. winners are always blue).
COLORS = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "grey": "#666666",
}
#: The largest figure :func:`show_images` draws, in inches (at 110 dpi, about 2,200 x 3,300 pixels).
MAX_FIGURE_INCHES = (20.0, 30.0)


def use_course_style() -> None:
    """Set matplotlib's defaults for the course: palette, fonts, white background."""
    mpl.rcParams.update(
        {
            "axes.prop_cycle": mpl.cycler(color=list(COLORS.values())),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 11,
            "figure.dpi": 110,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "savefig.bbox": "tight",
            "image.cmap": "gray",
            "legend.frameon": False,
        }
    )


def show_images(
    images: torch.Tensor | np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    title: str | None = None,
    size: float = 1.3,
) -> plt.Figure:
    """Show images in a grid and return the figure.

    Args:
        images: ``(N, H, W)`` grey or ``(N, H, W, 3)`` colour images, or
            ``(N, 1 or 3, H, W)`` tensors as a CNN takes them; uint8 (0-255) or
            float (shown with each image's own min-max range).
        titles: one short title per image, or ``None``.
        ncols: images per row.
        title: title of the whole figure.
        size: width of one image in inches.

    The figure may be at most ``MAX_FIGURE_INCHES`` = 20 x 30 inches: show a
    slice of a larger batch (e.g. ``images[:64]``), or lower ``size``.
    """
    what = "a tensor or a NumPy array (for an ImageSet: dataset.images[:16])"
    _validate.instance(images, "images", torch.Tensor | np.ndarray, what)
    images = _validate.array(images, "images")
    if images.ndim == 4 and images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4) or len(images) == 0 or images.ndim == 4 and images.shape[-1] != 3:
        raise ValueError(
            "images must be a non-empty (N, H, W), (N, H, W, 3) or (N, 1 or 3, H, W) array, "
            f"got shape {images.shape}"
        )
    if titles is not None:
        _validate.items(titles, "titles", _validate.text, "a list of str or None")
        if len(titles) != len(images):
            raise ValueError(
                f"titles must have one entry per image ({len(images)}), got {len(titles)}"
            )
    ncols = min(_validate.integer(ncols, "ncols", min=1), len(images))
    _validate.text(title, "title", optional=True)
    size = _validate.number(size, "size", positive=True)
    nrows = -(-len(images) // ncols)
    width, height = size * ncols, size * nrows + 0.4
    if width > MAX_FIGURE_INCHES[0] or height > MAX_FIGURE_INCHES[1]:
        raise ValueError(
            f"images, ncols and size give a {width:.0f} x {height:.0f} inch figure, larger than "
            f"{MAX_FIGURE_INCHES[0]:.0f} x {MAX_FIGURE_INCHES[1]:.0f}: show fewer images at once "
            "(e.g. images[:64]), or lower size"
        )
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, (ax, image) in enumerate(zip(axes.flat, images, strict=False)):
        if image.dtype != np.uint8:
            lo, hi = float(image.min()), float(image.max())
            image = (image - lo) / (hi - lo) if hi > lo else np.zeros_like(image)
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8, fontweight="normal")
    if title:
        fig.suptitle(title, fontweight="bold")
    fig.tight_layout()
    return fig


def mosaic(
    images: torch.Tensor | np.ndarray, ncols: int = 3, *, signed: bool = False, gap: int = 1
) -> np.ndarray:
    """Tile images into one array, each scaled on its own, to show with a single ``imshow``.

    Much faster to draw than one axes per image when a figure holds hundreds of
    small images (Zeiler & Fergus 2014, Fig. 2, show nine per feature map).

    Args:
        images: ``(N, H, W)`` grey, or ``(N, C, H, W)`` with ``C`` 1 (grey) or 3
            (colour); tensor or array.
        ncols: tiles per row.
        signed: ``False``: each tile stretched from its minimum (black) to its
            maximum (white). ``True``, for signed signals such as deconvnet
            projections: zero is mid-grey, and each tile is divided by the 99th
            percentile of its absolute values, so that value is black or white;
            the few stronger pixels are clipped (otherwise they would leave
            everything else grey). An all-zero tile stays grey.
        gap: white pixels between tiles.

    Returns:
        ``(rows * (H + gap) - gap, ncols * (W + gap) - gap)`` float array in [0, 1]
        (with a last axis of 3 for colour); show it with
        ``ax.imshow(tiles, cmap="gray", vmin=0, vmax=1)``.
    """
    images = _validate.array(images, "images")
    if images.ndim == 3:
        images = images[:, None]  # grey
    if images.ndim != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
        raise ValueError(
            f"images must be a non-empty (N, H, W) or (N, 1 or 3, H, W) array, got shape {images.shape}"
        )
    ncols = min(_validate.integer(ncols, "ncols", min=1), len(images))
    signed = _validate.flag(signed, "signed")
    gap = _validate.integer(gap, "gap", min=0)
    tiles = images.transpose(0, 2, 3, 1).astype(float)  # (N, H, W, C)
    flat = tiles.reshape(len(tiles), -1)
    if signed:
        scale = np.percentile(np.abs(flat), 99, axis=1)
        scale = np.where(scale > 0, scale, 1.0)[:, None, None, None]
        tiles = np.clip(0.5 + 0.5 * tiles / scale, 0.0, 1.0)
    else:
        low, high = flat.min(axis=1), flat.max(axis=1)
        span = np.where(high > low, high - low, 1.0)
        tiles = (tiles - low[:, None, None, None]) / span[:, None, None, None]
    n, height, width, channels = tiles.shape
    nrows = -(-n // ncols)
    out = np.ones((nrows * (height + gap) - gap, ncols * (width + gap) - gap, channels))
    for i, tile in enumerate(tiles):
        top, left = (i // ncols) * (height + gap), (i % ncols) * (width + gap)
        out[top : top + height, left : left + width] = tile
    return out[..., 0] if channels == 1 else out


def draw_box(ax: plt.Axes, box: Sequence[float], color: str, label: str | None = None, **style):
    """Draw the box ``(x1, y1, x2, y2)`` (pixels, as :mod:`course_utils.metrics` takes it) on ``ax``.

    ``label`` names it in the legend; ``style`` goes to matplotlib's ``Rectangle``
    (e.g. ``fill=False``, ``linestyle="--"``, ``alpha=0.3``). Returns the patch.
    """
    _validate.instance(ax, "ax", plt.Axes, "a matplotlib Axes")
    box = _validate.array(box, "box", ndim=1, shape="(x1, y1, x2, y2)")
    if len(box) != 4:
        raise ValueError(f"box must be (x1, y1, x2, y2), got {box.tolist()}")
    x1, y1, x2, y2 = box.tolist()
    if not is_color_like(color):
        raise ValueError(f"color must be a matplotlib colour such as '#0072B2', got {color!r}")
    _validate.text(label, "label", optional=True)
    if x2 < x1 or y2 < y1:
        raise ValueError(f"box must have x2 >= x1 and y2 >= y1, got {box.tolist()}")
    style = {"linewidth": 2, **style}
    patch = Rectangle(
        (x1, y1), x2 - x1, y2 - y1, edgecolor=color, facecolor=color, label=label, **style
    )
    return ax.add_patch(patch)
