"""Layer tables: output shape, parameters and multiply-adds of every layer (torchinfo)."""

from __future__ import annotations

import pandas as pd
import torch
import torchinfo
from torch import nn

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found

__all__ = ["layer_table", "weight_layers"]


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
    try:
        with model_left_as_found(model):
            stats = torchinfo.summary(
                model,
                input_size=(batch_size, *input_size),
                verbose=0,
                device=device_of(model),
                mode="eval",
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
    try:
        with model_left_as_found(model), torch.no_grad():
            for module in model.modules():
                if not list(module.children()):
                    module.register_forward_hook(lambda m, _, out: calls.append((m, out.shape)))
            model(torch.zeros(1, *input_size, device=device_of(model), dtype=dtype_of(model)))
    except RuntimeError as err:
        raise ValueError(f"input_size {input_size} does not fit the model: {err}") from None
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
