"""Layer tables: output shape, parameters and multiply-adds of every layer (torchinfo)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torchinfo
from matplotlib.patches import Rectangle
from torch import nn

from . import _validate

__all__ = ["layer_table", "plot_architecture", "weight_layers"]


def layer_table(
    model: nn.Module, input_size: tuple[int, ...], *, batch_size: int = 1
) -> pd.DataFrame:
    """One row per layer with parameters: output shape, parameters and multiply-adds.

    Built with ``torchinfo.summary`` (not a hand-written counter). Rows are the
    leaf layers (convolutions, ReLUs, pools, ...) in the order they run.

    Args:
        model: the network.
        input_size: shape of one input without the batch, e.g. ``(3, 227, 227)``.
        batch_size: the batch torchinfo runs (multiply-adds are for the whole batch).

    Tip: build large models under ``with torch.device("meta"):`` to get their table
    without allocating their weights.

    Returns:
        A DataFrame with columns ``layer`` (e.g. ``"features.0 Conv2d"``),
        ``output shape`` (``C x H x W``), ``parameters``, and ``MACs`` -- multiply-
        accumulate operations (torchinfo's "mult-adds"); one MAC is a multiply and
        an add, so FLOPs are about 2 x MACs. The last row is the total.
    """
    _validate.module(model)
    what = "a tuple of positive ints"
    input_size = tuple(
        _validate.items(input_size, "input_size", _validate.integer, what, nonempty=True, min=1)
    )
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    names = {id(module): name for name, module in model.named_modules()}
    # A model built under ``with torch.device("meta"):`` has shapes but no weights in
    # memory; torchinfo then runs on the meta device too.
    device = next(model.parameters(), torch.empty(0)).device
    try:
        stats = torchinfo.summary(
            model, input_size=(batch_size, *input_size), verbose=0, device=device, mode="eval"
        )
    except RuntimeError as err:  # torchinfo's own message points to a trace it does not show
        raise ValueError(
            f"input_size {input_size} does not fit the model: {err.__cause__ or err}"
        ) from None
    rows = []
    for info in stats.summary_list:
        if not info.is_leaf_layer or info.depth == 0:
            continue
        rows.append(
            {
                "layer": f"{names.get(info.layer_id, info.var_name)} {info.class_name}",
                "output shape": " x ".join(str(s) for s in info.output_size[1:]),
                "parameters": int(info.num_params),
                "MACs": int(info.macs),
            }
        )
    rows.append(
        {
            "layer": "total",
            "output shape": "",
            "parameters": int(stats.total_params),
            "MACs": int(stats.total_mult_adds),
        }
    )
    return pd.DataFrame(rows)


def weight_layers(model: nn.Module, input_size: tuple[int, ...]) -> pd.DataFrame:
    """One row per convolution or fully connected layer, in the order they run.

    Found by running the model once on zeros with forward hooks, so the table is the
    model's own structure, not a description of it. Layers are named as the papers name
    them: ``conv1``, ``conv2``, ... then ``fc6``, ``fc7``, ... counting on from the last
    convolution.

    Args:
        model: the network (it may live on the meta device).
        input_size: shape of one input without the batch, e.g. ``(3, 227, 227)``.

    Returns:
        A DataFrame with columns ``name``, ``module`` (the dotted module name),
        ``kind`` (``"conv"`` or ``"fc"``), ``channels`` (output maps or units),
        ``height`` and ``width`` (of the output maps; 1 for ``fc``), ``kernel``,
        ``stride``, ``groups`` (0 for ``fc``), and ``after``: the layers that run
        between this one and the next weight layer, e.g.
        ``"ReLU, LRN, max pool 3x3/2, overlapping, to 27x27"``.
    """
    _validate.module(model)
    what = "a tuple of positive ints"
    input_size = tuple(
        _validate.items(input_size, "input_size", _validate.integer, what, nonempty=True, min=1)
    )
    names = {module: name for name, module in model.named_modules()}
    calls: list[tuple[nn.Module, torch.Size]] = []
    hooks = [
        module.register_forward_hook(lambda m, _, out: calls.append((m, out.shape)))
        for module in model.modules()
        if not list(module.children())
    ]
    device = next(model.parameters(), torch.empty(0)).device
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_size, device=device))
    except RuntimeError as err:
        raise ValueError(f"input_size {input_size} does not fit the model: {err}") from None
    finally:
        model.train(training)
        for hook in hooks:
            hook.remove()
    rows: list[dict] = []
    for module, shape in calls:
        if isinstance(module, nn.Conv2d | nn.Linear):
            conv = isinstance(module, nn.Conv2d)
            rows.append(
                {
                    "name": "",
                    "module": names[module],
                    "kind": "conv" if conv else "fc",
                    "channels": shape[1],
                    "height": shape[2] if conv else 1,
                    "width": shape[3] if conv else 1,
                    "kernel": module.kernel_size[0] if conv else 1,
                    "stride": module.stride[0] if conv else 1,
                    "groups": module.groups if conv else 0,
                    "after": [],
                }
            )
        elif rows and _short_name(module):
            size = f" to {shape[2]}x{shape[3]}" if isinstance(module, nn.MaxPool2d) else ""
            rows[-1]["after"].append(_short_name(module) + size)
    for i, row in enumerate(rows):
        row["name"] = f"{row['kind']}{i + 1}"
        row["after"] = ", ".join(row["after"])
    return pd.DataFrame(rows)


def _short_name(module: nn.Module) -> str:
    """How the architecture diagram names a layer without weights ('' to leave it out)."""
    if isinstance(module, nn.MaxPool2d):
        k, s = module.kernel_size, module.stride
        k, s = (k if isinstance(k, int) else k[0]), (s if isinstance(s, int) else s[0])
        return f"max pool {k}x{k}/{s}" + (", overlapping," if k > s else "")
    if isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d | nn.Dropout):
        return ""
    if isinstance(module, nn.Flatten):
        return ""
    return {"LocalResponseNorm": "LRN"}.get(type(module).__name__, type(module).__name__)


def plot_architecture(
    model: nn.Module, input_size: tuple[int, ...], *, ax: plt.Axes | None = None
) -> plt.Axes:
    """Draw a network's weight layers as boxes, from :func:`weight_layers`.

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
