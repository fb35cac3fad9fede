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
from matplotlib.colors import ListedColormap, is_color_like
from matplotlib.patches import Rectangle
from torch import nn

from . import _validate
from .occlusion import OcclusionMaps
from .summary import weight_layers

__all__ = [
    "COLORS",
    "architecture_diagram",
    "draw_box",
    "mosaic",
    "occlusion_panels",
    "show_images",
    "use_course_style",
]

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


def occlusion_panels(
    maps: OcclusionMaps,
    pictures: torch.Tensor | np.ndarray,
    class_names: Sequence[str],
    *,
    row: int = 0,
    title: str | None = None,
) -> plt.Figure:
    """Fig. 7 of Zeiler & Fergus (2014) for one image: the image and views (b), (d), (e).

    Args:
        maps: from :func:`course_utils.occlusion.occlusion_maps`.
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
    maps = OcclusionMaps(
        **{
            key: value.cpu() if isinstance(value, torch.Tensor) else value
            for key, value in vars(maps).items()
        }
    )
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
    intact = (float(maps.unoccluded_activation[n]), float(maps.unoccluded_probability[n]))
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


def architecture_diagram(
    model: nn.Module, input_size: tuple[int, ...], *, ax: plt.Axes | None = None
) -> plt.Axes:
    """Draw a network's weight layers as boxes, from :func:`course_utils.summary.weight_layers`.

    Each convolution's output is a box whose height grows with its map size (square
    root, so 13x13 maps stay visible next to 110x110) and whose label gives the maps,
    their size, the kernel and the stride. A grouped convolution (``groups=2``, AlexNet's
    two GPUs) splits its input and output into stacked halves joined half to half;
    a dense layer joins every half to every half. What runs between two weight layers
    (ReLU, LRN, pooling and the size it pools to) is written under the arrow.

    Args:
        model: the network (it may live on the meta device).
        input_size: shape of one input without the batch, e.g. ``(3, 227, 227)``.
        ax: where to draw; a new wide figure if None.

    Returns:
        The axes.
    """
    layers = weight_layers(model, input_size)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4.4), layout="constrained")
    _validate.instance(ax, "ax", plt.Axes, "matplotlib Axes")
    groups = layers["groups"].tolist() + [0]
    # A map is drawn in as many parts as the layers on either side of it split it into.
    parts = [max(groups[i], groups[i + 1], 1) for i in range(len(layers))]
    largest = max(int(layers["height"].max()), 1)
    step, top = 1.9, []
    for i, row in layers.iterrows():
        x = i * step
        if row["kind"] == "conv":
            height = 0.8 + 2.4 * (row["height"] / largest) ** 0.5
            label = f"{row['channels']} @ {row['height']}x{row['width']}"
            label += f"\n{row['kernel']}x{row['kernel']} /{row['stride']}"
        else:
            height = 0.4 + 2.8 * row["channels"] / layers["channels"][layers["kind"] == "fc"].max()
            label = f"{row['channels']} units"
        gap = 0.12
        piece = (height - gap * (parts[i] - 1)) / parts[i]
        boxes = []
        for p in range(parts[i]):
            y = -height / 2 + p * (piece + gap)
            ax.add_patch(Rectangle((x, y), 0.7, piece, facecolor="#cfe3f2", edgecolor="#0072B2"))
            boxes.append(y + piece / 2)
        ax.text(
            x + 0.35,
            height / 2 + 0.12,
            row["name"],
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold",
        )
        ax.text(x + 0.35, -height / 2 - 0.12, label, ha="center", va="top", fontsize=8)
        if i > 0:
            grouped = row["groups"] > 1
            for a, ya in enumerate(top):
                for b, yb in enumerate(boxes):
                    if grouped and a != b:
                        continue
                    ax.plot([x - step + 0.7, x], [ya, yb], color="#666666", lw=0.8)
            after = layers["after"][i - 1].replace(", ", "\n")
            ax.text(
                x - step / 2 + 0.35,
                -2.45,
                after,
                ha="center",
                va="top",
                fontsize=7.5,
                color="#666666",
                linespacing=1.1,
            )
        top = boxes
    ax.set_xlim(-0.3, len(layers) * step)
    ax.set_ylim(-3.9, 2.1)
    ax.set_axis_off()
    return ax
