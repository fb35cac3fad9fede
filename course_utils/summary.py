"""Layer tables: output shape, parameters and multiply-adds of every layer (torchinfo)."""

from __future__ import annotations

import pandas as pd
import torch
import torchinfo
from torch import nn

from . import _validate

__all__ = ["layer_table"]


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
    if not isinstance(input_size, tuple | list) or not input_size:
        raise TypeError(f"input_size must be a tuple of positive ints, got {input_size!r}")
    input_size = tuple(_validate.integer(s, "input_size", min=1) for s in input_size)
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
