"""Receptive fields: the input pixels a unit can see (analytic), does see (empirical), and mostly sees (effective).

* :func:`receptive_field` -- for every layer of a model, the size of a unit's field,
  its stride (how far the field moves when the unit moves by one) and where the field
  of unit (0, 0) starts, by the recurrences of Araujo, Norris & Sim (2019).
* :func:`field_box` -- the box of input pixels one unit sees, read from that table.
* :func:`empirical_receptive_field` -- the pixels whose gradient reaches a unit.
* :func:`effective_receptive_field` and :func:`mass_fraction` -- how the gradient is
  spread over the field (Luo, Li, Urtasun & Zemel 2016).

**The recurrences** (Araujo et al. 2019, "Single-path networks"), along one axis. The
input is layer 0: every pixel sees itself (size 1, stride 1, start 0). A layer with
kernel ``k``, stride ``s``, padding ``p`` and dilation ``d`` (a dilated kernel spans
``d (k - 1) + 1`` pixels of its input) maps the field of the layer before to::

    size[l]   = size[l-1] + d (k - 1) * stride[l-1]
    stride[l] = stride[l-1] * s
    start[l]  = start[l-1] - p * stride[l-1]

Unit ``i`` of layer ``l`` then sees input pixels ``start[l] + i * stride[l]`` to
``start[l] + i * stride[l] + size[l] - 1``. A negative start means the field begins in
the zero padding, outside the image. (Dilation can leave holes inside that interval:
a 3x3 kernel dilated by 2 on a map of stride 2 reads every other unit below it; the
size is the field's extent.) ``ceil_mode`` changes how many units a pooling
layer has (one more window, partly outside), not what each of them sees. Pointwise
layers (ReLU, batch normalisation in eval mode, local response normalisation, which
mixes channels but not positions, dropout) leave the field as it is.

**Branches.** Where paths meet (ResNet's additions, GoogLeNet's concatenations), a
unit sees the union of what it sees along each path. ``size`` and ``start`` describe
the smallest interval holding all of them: Araujo et al.'s rule ("Arbitrary computation
graphs") for paths whose fields are centred alike, and the union otherwise. The paths
must have the same stride where they meet (they do in every network of the course).

**Whole input.** After global pooling, flattening or a fully connected layer, a unit
has no position any more: it depends on every position of the layer before. Its row
has stride 0, and size and start describe that union clipped to the input: the whole
input (size = the input size, start 0) whenever the layers before it cover it.

**How the graph is seen.** :func:`receptive_field` runs the model once, in eval mode
and without gradients, on an input of zeros on the model's device (build a large model
under ``with torch.device("meta"):`` and nothing is computed or allocated). Forward
hooks on every submodule apply the rule of each layer, and a ``TorchFunctionMode``
sees what a ``forward`` does between layers (``+``, ``torch.cat``, ``F.relu``,
``torch.flatten``) as it runs. So the graph is the one that really runs, Python
branches included, and every row is named after the module that produced it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found
from .normalization import LocalResponseNorm

__all__ = [
    "effective_receptive_field",
    "empirical_receptive_field",
    "field_box",
    "mass_fraction",
    "receptive_field",
]


@dataclass(frozen=True)
class _Field:
    """The field of unit 0 along one axis, in input pixels (one row of the table, one axis).

    ``stride == 0`` marks a unit with no position left (after global pooling or a
    fully connected layer): every unit of the layer sees the same region.
    """

    size: int
    stride: int
    start: int


_PIXEL = _Field(size=1, stride=1, start=0)  # the input: each pixel sees itself
_COLUMNS = {"name", "size", "stride", "start"}

# Layers that act on each position separately (in eval mode): the field passes through.
_POINTWISE = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.BatchNorm2d,
    nn.LocalResponseNorm,
    LocalResponseNorm,
    nn.Dropout,
    nn.Dropout2d,
    nn.Identity,
)

# Operations a forward may apply between layers, by what they do to fields.
_ELEMENTWISE = {
    torch.add,
    torch.mul,
    torch.cat,
    torch.relu,
    torch.relu_,
    torch.sigmoid,
    F.relu,
    F.dropout,
    torch.Tensor.__add__,
    torch.Tensor.__radd__,
    torch.Tensor.__iadd__,
    torch.Tensor.__mul__,
    torch.Tensor.__rmul__,
    torch.Tensor.__imul__,
    torch.Tensor.add,
    torch.Tensor.add_,
    torch.Tensor.mul,
    torch.Tensor.relu,
    torch.Tensor.relu_,
    torch.Tensor.contiguous,
}
_RESHAPE = {
    torch.flatten,
    torch.Tensor.flatten,
    torch.Tensor.view,
    torch.Tensor.reshape,
    torch.reshape,
    torch.transpose,
    torch.Tensor.transpose,
}
_POOL_FUNCTIONS = {F.max_pool2d, torch.max_pool2d, F.avg_pool2d, torch._C._nn.avg_pool2d}
_REDUCE = {
    torch.mean,
    torch.Tensor.mean,
    torch.amax,
    torch.Tensor.amax,
    torch.sum,
    torch.Tensor.sum,
}
# Operations that return a tuple of pieces of one tensor.
_SPLIT = {
    torch.split,
    torch.Tensor.split,
    torch.chunk,
    torch.Tensor.chunk,
    torch.unbind,
    torch.Tensor.unbind,
}


def _two(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, tuple | list) else (value, value)


def _window(field: _Field, kernel: int, stride: int, padding: int, dilation: int = 1) -> _Field:
    """One layer of the recurrences, along one axis."""
    if field.stride == 0:
        return field
    return _Field(
        size=field.size + dilation * (kernel - 1) * field.stride,
        stride=field.stride * stride,
        start=field.start - padding * field.stride,
    )


def _whole(field: _Field, units: int, length: int) -> _Field:
    """What a unit that sees all ``units`` positions sees: their union, clipped to the input."""
    if field.stride == 0:
        return field
    first = max(field.start, 0)
    last = min(field.start + (units - 1) * field.stride + field.size - 1, length - 1)
    return _Field(size=last - first + 1, stride=0, start=first)


def _union(fields: list[_Field], units: list[int], length: int, where: str) -> _Field:
    """The field of a unit where several paths meet: the union of the paths' fields."""
    if any(f.stride == 0 for f in fields):
        fields = [_whole(f, n, length) for f, n in zip(fields, units, strict=True)]
    if len({f.stride for f in fields}) > 1:
        raise ValueError(
            f"model: paths with different strides {sorted({f.stride for f in fields})} meet "
            f"at {where}; their fields do not move together"
        )
    first = min(f.start for f in fields)
    last = max(f.start + f.size - 1 for f in fields)
    return _Field(size=last - first + 1, stride=fields[0].stride, start=first)


def _spatial(tensor: torch.Tensor) -> tuple[int, int]:
    """Number of units along (height, width); 1 for a tensor without positions."""
    return tuple(tensor.shape[-2:]) if tensor.dim() >= 3 else (1, 1)


def _tensors(value) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def _layer_fields(module: nn.Module, name: str, fields, x: torch.Tensor, out, length):
    """The rule of one layer (a module without submodules): its input's fields -> its output's."""
    if isinstance(module, nn.Conv2d):
        if module.padding_mode != "zeros":
            raise ValueError(
                f"model: layer {name!r} pads with {module.padding_mode!r}; only zero "
                "padding keeps the field where the recurrences put it"
            )
        padding = module.padding
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":  # PyTorch puts the smaller half of the padding first
            padding = tuple(
                d * (k - 1) // 2 for k, d in zip(module.kernel_size, module.dilation, strict=True)
            )
        geometry = (module.kernel_size, module.stride, padding, module.dilation)
    elif isinstance(module, nn.MaxPool2d):
        geometry = (module.kernel_size, module.stride, module.padding, module.dilation)
    elif isinstance(module, nn.AvgPool2d):
        geometry = (module.kernel_size, module.stride, module.padding, 1)
    elif isinstance(module, nn.AdaptiveAvgPool2d | nn.AdaptiveMaxPool2d):
        return _adaptive(name, fields, x, out, length)
    elif isinstance(module, _POINTWISE):
        return fields
    elif isinstance(module, nn.Flatten | nn.Linear):
        if isinstance(module, nn.Linear) and x.dim() > 2 and any(f.stride for f in fields):
            raise ValueError(
                f"model: layer {name!r} (Linear) is applied to a map of shape "
                f"{tuple(x.shape)}; it mixes only the last axis: flatten the map first"
            )
        return _reshaped(fields, x, out, length)
    else:
        raise ValueError(
            f"model: layer {name!r} ({type(module).__name__}) is not supported by "
            "receptive_field (supported: Conv2d, MaxPool2d, AvgPool2d, adaptive pooling, "
            "Flatten, Linear and pointwise layers such as ReLU or BatchNorm2d)"
        )
    return tuple(_window(f, *(_two(g)[axis] for g in geometry)) for axis, f in enumerate(fields))


def _adaptive(name: str, fields, x: torch.Tensor, out: torch.Tensor, length):
    """Adaptive pooling: global (output 1), the identity, or a regular window k = stride = n / m."""
    result = []
    for axis, (f, n, m) in enumerate(zip(fields, _spatial(x), _spatial(out), strict=True)):
        if m == 1:
            result.append(_whole(f, n, length[axis]))
        elif n % m == 0:
            result.append(_window(f, n // m, n // m, 0))
        else:
            raise ValueError(
                f"model: layer {name!r} pools {n} positions into {m}: its windows are not "
                "evenly spaced, so no single stride describes them; choose an input size "
                "for which they divide"
            )
    return tuple(result)


def _reshaped(fields, x: torch.Tensor, out: torch.Tensor, length):
    """A reshape keeps the fields if it keeps the positions; otherwise every unit sees them all.

    Positions are kept when the last two axes are the same before and after (a
    channel shuffle's views and transposes of the channel axes, for instance).
    """
    if out.dim() >= 4 and x.dim() >= 4 and out.shape[-2:] == x.shape[-2:]:
        return fields
    return tuple(
        _whole(f, n, length[axis])
        for axis, (f, n) in enumerate(zip(fields, _spatial(x), strict=True))
    )


class _Tracker(TorchFunctionMode):
    """Follows the fields of every tensor through one forward pass (see the module's notes)."""

    def __init__(self, image: torch.Tensor):
        super().__init__()
        self.image = image
        self.length = tuple(image.shape[-2:])  # the input's size, in the table's pixels
        self.fields = {id(image): (image, (_PIXEL, _PIXEL))}  # id -> (tensor, fields)
        # id -> per axis, the (first, last) input pixel that some unit of the tensor sees
        # through every layer before it (a floor-mode pooling drops pixels for good).
        self.seen = {id(image): tuple((0, n - 1) for n in self.length)}
        self.branches = {}  # id -> the fields of the concatenated branches, in channel order
        self.rows = []  # (name, output, its fields), in the order the modules finish
        self.running = []  # names of the modules running now, innermost last
        self.in_layer = 0  # > 0 while a layer (a module without submodules) runs

    def field(self, tensor: torch.Tensor):
        return self.fields[id(tensor)][1]

    def track(self, out: torch.Tensor, fields, inputs) -> None:
        """Record ``out``'s fields, and the input pixels its units see at all."""
        self.fields[id(out)] = (out, fields)
        parents = [self.seen[id(t)] for t in inputs if id(t) in self.seen]
        seen = []
        for axis, (f, n) in enumerate(zip(fields, _spatial(out), strict=True)):
            lo = min((p[axis][0] for p in parents), default=0)
            hi = max((p[axis][1] for p in parents), default=self.length[axis] - 1)
            last = (
                f.start + f.size - 1 if f.stride == 0 else f.start + (n - 1) * f.stride + f.size - 1
            )
            seen.append((max(lo, f.start), min(hi, last)))
        self.seen[id(out)] = tuple(seen)

    def before(self, name: str, module: nn.Module) -> None:
        self.running.append(name)
        self.in_layer += not any(module.children())

    def after(self, name: str, module: nn.Module, args, output) -> None:
        out = _tensors(output)[0]
        if not any(module.children()):
            self.in_layer -= 1
            x = [t for t in _tensors(args) if id(t) in self.fields]
            if x:
                fields = _layer_fields(module, name, self.field(x[0]), x[0], out, self.length)
                self.track(out, fields, x[:1])
                if isinstance(module, _POINTWISE) and id(x[0]) in self.branches:
                    self.branches[id(out)] = self.branches[id(x[0])]
        if id(out) in self.fields:
            self.rows.append((name, out, self.field(out), self.seen[id(out)]))
        self.running.pop()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if self.in_layer:
            return out
        inputs = [t for t in _tensors((args, kwargs)) if id(t) in self.fields]
        if not inputs:
            return out
        if isinstance(out, torch.Tensor):
            self.track(out, self.glue(func, inputs, args, kwargs, out), inputs)
        elif isinstance(out, tuple | list) and func in _SPLIT:
            # torch.split / chunk / unbind: along channels, each piece keeps the fields.
            position = 1 if func in (torch.unbind, torch.Tensor.unbind) else 2
            dim = kwargs.get("dim", args[position] if len(args) > position else 0)
            if dim % inputs[0].dim() >= inputs[0].dim() - 2:
                where = self.running[-1] if self.running else "the model's forward"
                raise ValueError(
                    f"model: {where} splits a feature map along its positions; "
                    "receptive_field follows splits along channels only"
                )
            for piece in out:
                if isinstance(piece, torch.Tensor):
                    self.track(piece, self.field(inputs[0]), inputs[:1])
        return out

    def glue(self, func, inputs, args, kwargs, out):
        """The rule of an operation that a forward applies between layers."""
        where = self.running[-1] if self.running else "the model's forward"
        fields = [self.field(t) for t in inputs]
        if func is F.interpolate and inputs[0] is self.image:
            # A resize of the input (the small models: 28 -> 64): the table continues in
            # the resized image's pixels, as if that image were the input.
            self.length = tuple(out.shape[-2:])
            return (_PIXEL, _PIXEL)
        if func in _RESHAPE:
            return _reshaped(fields[0], inputs[0], out, self.length)
        if func in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            return _adaptive(where, fields[0], inputs[0], out, self.length)
        if func in _POOL_FUNCTIONS:  # F.max_pool2d / F.avg_pool2d called in a forward
            names = ("input", "kernel_size", "stride", "padding", "dilation")
            given = {**dict(zip(names, args, strict=False)), **kwargs}
            kernel = given["kernel_size"]
            geometry = (kernel, given.get("stride") or kernel, given.get("padding", 0))
            dilation = given.get("dilation", 1) if func is not F.avg_pool2d else 1
            return tuple(
                _window(f, *(_two(g)[axis] for g in (*geometry, dilation)))
                for axis, f in enumerate(fields[0])
            )
        if func in _REDUCE and inputs[0].dim() >= 3 and out.dim() < inputs[0].dim():
            # a mean or maximum over the positions (ShuffleNetV2's x.mean([2, 3]))
            return _reshaped(fields[0], inputs[0], out, self.length)
        spatial_dims = {-2, -1, inputs[0].dim() - 2, inputs[0].dim() - 1}
        concatenates_positions = (
            func is torch.cat and kwargs.get("dim", args[1] if len(args) > 1 else 0) in spatial_dims
        )
        everything_seen = all(f.stride == 0 for fs in fields for f in fs)
        if func is torch.cat and not concatenates_positions and len(inputs) > 1:
            # Channels side by side: each keeps its own branch's field (GoogLeNet).
            self.branches[id(out)] = [self.branches.get(id(t), [self.field(t)]) for t in inputs]
            self.branches[id(out)] = [f for group in self.branches[id(out)] for f in group]
        elif len(inputs) == 1 and id(inputs[0]) in self.branches and func in _ELEMENTWISE:
            self.branches[id(out)] = self.branches[id(inputs[0])]  # F.relu after the concatenation
        if (func in _ELEMENTWISE and not concatenates_positions) or everything_seen:
            units = [_spatial(t) for t in inputs]
            return tuple(
                _union([fs[axis] for fs in fields], [u[axis] for u in units], n, where)
                for axis, n in enumerate(self.length)
            )
        name = getattr(func, "__name__", repr(func))
        raise ValueError(
            f"model: {where} applies {name} to a feature map; receptive_field does not "
            "know how that operation moves fields"
        )


def _input_shape(model: nn.Module, input_size) -> tuple[int, int, int]:
    """``(C, H, W)`` from an int, ``(H, W)`` or ``(C, H, W)``; C from the first convolution."""
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if isinstance(input_size, tuple | list) and len(input_size) == 3:
        channels = _validate.integer(input_size[0], "input_size", min=1)
        shape = (channels, *_validate.pair(tuple(input_size[1:]), "input_size"))
        if first is not None and channels != first.in_channels:
            raise ValueError(
                f"input_size must be (C, H, W) with C = {first.in_channels} (the first "
                f"convolution's input channels), got {tuple(input_size)}"
                + (" (in H, W, C order?)" if input_size[-1] == first.in_channels else "")
            )
        return shape
    height, width = _validate.pair(input_size, "input_size")
    if first is None:
        raise ValueError("input_size must be (C, H, W) for a model without a Conv2d layer")
    return first.in_channels, height, width


def receptive_field(
    model: nn.Module, input_size: int | tuple[int, ...], *, branches: bool = False
) -> pd.DataFrame:
    """The analytic receptive field of every layer: size, stride and start, in input pixels.

    Araujo, Norris & Sim (2019), "Computing Receptive Fields of Convolutional Neural
    Networks", Distill: the recurrences of the module's notes, applied layer by layer
    to the graph that runs, with the union rule where branches meet.

    Args:
        model: a network of layers (e.g. an ``nn.Sequential``, a torchvision model, or
            a part of one such as ``model.features``), on any device, ``meta`` included.
        input_size: ``H`` (square), ``(H, W)``, or ``(C, H, W)`` as
            :func:`course_utils.summary.layer_table` takes it (C defaults to the first
            convolution's input channels).

    Returns:
        A DataFrame with one row per module call, in the order they finish (a block's
        layers, then the block), the last row the model's output:

        * ``name`` -- the module's dotted name (pass it as ``layer`` to the other helpers);
          a module called several times (torchvision's ResNet reuses one ReLU three
          times per block) has one row per call;
        * ``size`` -- how many input pixels a unit sees along each axis;
        * ``stride`` -- how far (in input pixels) the field moves when the unit moves by
          one position: the layer's *effective stride*; 0 when units have no position
          left (global pooling, fully connected layers; see the module's notes);
        * ``start`` -- the first input pixel seen by unit (0, 0); negative when the
          field starts in the padding.

        Values are ints, along the rows (y) of the map; when some row's field differs
        between the two axes (a rectangular input or kernel), the columns ``size_x``,
        ``stride_x`` and ``start_x`` give the columns (x) too. ``table.attrs["input_size"]`` is the ``(H, W)`` of the input in the
        table's pixels. A model whose forward resizes its input first (the course's
        small models resize 28x28 to 64x64, bilinear) is described in the pixels of the
        resized image, as its ``features`` see it: the table of ``small_alexnet()`` at
        28 is that of ``small_alexnet().features`` at 64; one resized pixel is
        28/64 of an original pixel.

        With ``branches=True``, a column ``branch_sizes``: for a row whose output
        concatenates branches along the channels (GoogLeNet's Inception blocks), the
        ``size`` of each branch's field, in channel order (a unit of a 1x1 branch sees
        less than the ``size`` column, which is the union); elsewhere the row's ``size``
        alone. Always a tuple of ints. (Where paths *add*, as in ResNet, every
        channel sees the union, and so does ``size``.)

    Raises:
        ValueError: a layer or operation the rules do not cover (named), paths with
            different strides meeting, or an input too small for the model (naming the
            layer that failed).

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.MaxPool2d(2))
        >>> receptive_field(net, 16)
          name  size  stride  start
        0    0     3       1     -1
        1    1     4       2     -1
    """
    _validate.module(model)
    branches = _validate.flag(branches, "branches")
    if not any(model.children()):
        raise ValueError(
            f"model must be a network of layers (e.g. an nn.Sequential), got a single "
            f"{type(model).__name__}"
        )
    channels, height, width = _input_shape(model, input_size)
    image = torch.zeros(1, channels, height, width, dtype=dtype_of(model), device=device_of(model))
    tracker = _Tracker(image)
    with model_left_as_found(model):
        for name, module in model.named_modules():
            if name:
                module.register_forward_pre_hook(lambda m, args, name=name: tracker.before(name, m))
                module.register_forward_hook(
                    lambda m, args, out, name=name: tracker.after(name, m, args, out)
                )
        try:
            with torch.no_grad(), tracker:
                output = _tensors(model(image))[0]
        except RuntimeError as error:
            where = tracker.running[-1] if tracker.running else "the model's forward"
            layer = dict(model.named_modules()).get(where)
            kind = f" ({type(layer).__name__})" if layer is not None else ""
            raise ValueError(
                f"input_size {(height, width)} does not fit the model (too small?): "
                f"{where}{kind} failed with: {str(error).splitlines()[0]}"
            ) from error
    rows = list(tracker.rows)
    last = tracker.rows[-1] if tracker.rows else None
    if last is None or last[1] is not output or last[2] != tracker.field(output):
        # the forward did more after its last module
        rows.append(("output", output, tracker.field(output), tracker.seen[id(output)]))
    square = all(h == w for _, _, (h, w), _ in rows)
    table = pd.DataFrame(
        [
            {
                "name": name,
                **{key: int(getattr(h, key)) for key in ("size", "stride", "start")},
                **(
                    {}
                    if square
                    else {f"{key}_x": int(getattr(w, key)) for key in ("size", "stride", "start")}
                ),
            }
            for name, _, (h, w), _ in rows
        ]
    )
    if branches:
        table["branch_sizes"] = [
            tuple(int(f[0].size) for f in tracker.branches.get(id(out), [fields]))
            for _, out, fields, _ in rows
        ]
    table.attrs["input_size"] = tracker.length
    # Per name (its last call): the size of its map, and the input pixels its units
    # see at all (first, last) per axis: what field_box checks and clips to.
    table.attrs["map_size"] = {name: _spatial(out) for name, out, _, _ in rows}
    table.attrs["seen"] = {name: seen for name, _, _, seen in rows}
    return table


def field_box(
    table: pd.DataFrame, layer: str, position: tuple[int, int] = (0, 0), *, clip: bool = True
) -> tuple[int, int, int, int]:
    """The input pixels one unit sees, as a box ``(x1, y1, x2, y2)``.

    Args:
        table: a table from :func:`receptive_field`.
        layer: a row's ``name`` (for a module called several times, its last call).
        position: ``(row, column)`` of the unit in the layer's map; ignored (every unit
            sees the same region) for a row with stride 0.
        clip: cut the box to the input pixels that reach the layer at all: the image
            (``table.attrs["input_size"]``), less the pixels that a floor-mode pooling
            or a strided layer below dropped; otherwise the box reaches into the
            padding where the field does.

    Returns:
        Pixel edges, as :mod:`course_utils.metrics` and
        :func:`course_utils.plotting.draw_box` take boxes: pixel ``i`` spans ``[i, i + 1)``,
        so the unit sees columns ``x1`` to ``x2 - 1`` and rows ``y1`` to ``y2 - 1``.

    Raises:
        ValueError: ``position`` outside the layer's map, or (with ``clip``) a unit
            that sees only padding.

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.MaxPool2d(2))
        >>> field_box(receptive_field(net, 10), "1", (1, 2))  # 4x4 pixels
        (4, 2, 8, 6)
    """
    _validate.table(table, "table", _COLUMNS, "receptive_field()")
    if not isinstance(layer, str) or layer not in set(table["name"]):
        some = ", ".join(list(table["name"])[:6])
        raise ValueError(f"layer {layer!r} is not a row of the table (e.g. {some})")
    row, column = _validate.pair(position, "position", min=0)
    clip = _validate.flag(clip, "clip")
    found = table[table["name"] == layer].iloc[-1]
    height, width = table.attrs.get("map_size", {}).get(layer, (row + 1, column + 1))
    if int(found["stride"]) and (row >= height or column >= width):
        raise ValueError(
            f"position {(row, column)} is outside the {height}x{width} map of layer {layer!r}"
        )
    x = "_x" if "size_x" in table.columns else ""
    y1 = int(found["start"]) + row * int(found["stride"])
    x1 = int(found[f"start{x}"]) + column * int(found[f"stride{x}"])
    y2, x2 = y1 + int(found["size"]), x1 + int(found[f"size{x}"])
    if clip:
        full = tuple((0, n - 1) for n in table.attrs["input_size"])
        (top, bottom), (left, right) = table.attrs.get("seen", {}).get(layer, full)
        x1, x2 = max(x1, left), min(x2, right + 1)
        y1, y2 = max(y1, top), min(y2, bottom + 1)
        if x2 <= x1 or y2 <= y1:
            raise ValueError(
                f"position {(row, column)} of layer {layer!r}: the unit sees only padding "
                "(no input pixel); pass clip=False for its field in the padding"
            )
    return int(x1), int(y1), int(x2), int(y2)


def _linear_twin(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in which a path from a pixel to a unit always carries gradient.

    Same layers and connections; max pooling becomes average pooling over the same
    windows, pointwise layers become the identity, convolutions and linear layers get
    weights 1 / fan-in and zero biases. Nothing of ``model`` is copied but its
    structure (its weights may live on the meta device).
    """
    memo = {id(t): torch.empty(t.shape, dtype=t.dtype, device="cpu") for t in model.parameters()}
    memo.update({id(t): torch.empty(t.shape, dtype=t.dtype, device="cpu") for t in model.buffers()})
    twin = copy.deepcopy(model, memo)
    for parent in list(twin.modules()):
        for child_name, child in parent.named_children():
            if any(child.children()):
                continue
            if isinstance(child, nn.MaxPool2d):
                if child.dilation not in (1, (1, 1)):
                    raise ValueError(
                        f"model: dilated max pooling ({child}) has no average-pooling twin"
                    )
                twin_layer = nn.AvgPool2d(
                    child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode
                )
            elif isinstance(child, nn.AdaptiveMaxPool2d):
                twin_layer = nn.AdaptiveAvgPool2d(child.output_size)
            elif isinstance(child, _POINTWISE):
                twin_layer = nn.Identity()
            elif isinstance(child, nn.Conv2d | nn.Linear):
                child.weight.requires_grad_(False).fill_(1 / child.weight[0].numel())
                if child.bias is not None:
                    child.bias.requires_grad_(False).zero_()
                continue
            else:
                continue  # average pooling and reshapes carry every path already
            setattr(parent, child_name, twin_layer)
    return twin.eval()


class _AveragePooling(TorchFunctionMode):
    """Max pooling called as a function inside a ``forward`` becomes average pooling too."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in (F.max_pool2d, torch.max_pool2d, F.max_pool2d_with_indices):
            kwargs.pop("return_indices", None)
            if kwargs.pop("dilation", 1) not in (1, (1, 1)):
                raise ValueError("model: dilated max pooling has no average-pooling twin")
            names = ("input", "kernel_size", "stride", "padding")
            kwargs.update(zip(names, args, strict=False))
            kwargs = {k: v for k, v in kwargs.items() if k in (*names, "ceil_mode")}
            kwargs["stride"] = kwargs.get("stride") or kwargs["kernel_size"]
            return F.avg_pool2d(**kwargs, count_include_pad=True)
        if func is F.adaptive_max_pool2d:
            return F.adaptive_avg_pool2d(
                args[0], args[1] if len(args) > 1 else kwargs["output_size"]
            )
        return func(*args, **kwargs)


def _checked_unit(position, channel, *, empirical: bool = False):
    """``position`` and ``channel`` as validated values, before anything runs."""
    if position is None and empirical:
        raise ValueError(
            "position must be (row, column) or 'centre': the empirical field runs on a twin "
            "of the model whose units are all alike, so it has no strongest unit"
        )
    position = _validate.position(position)
    if channel is None and empirical:
        raise ValueError("channel must be an int or 'all' for the empirical field")
    if isinstance(channel, str) and channel != "all":
        raise ValueError(f"channel must be an int, 'all' or None, got {channel!r}")
    if channel is not None and not isinstance(channel, str):
        channel = _validate.integer(channel, "channel", min=0)
    return position, channel


def _unit(output: torch.Tensor, position, channel, layer: str) -> torch.Tensor:
    """Each image's unit of ``output`` (summed over channels for ``channel="all"``).

    ``None`` picks, per image, the strongest (argmax of the rectified activation).
    """
    if output.dim() not in (2, 4):
        raise ValueError(
            f"layer {layer!r} must output (N, C, H, W) or (N, C), got {output.dim()}-D"
        )
    if isinstance(channel, int) and channel >= output.shape[1]:
        raise ValueError(
            f"channel must be an int <= {output.shape[1] - 1} (layer {layer!r} has "
            f"{output.shape[1]} channels), got {channel}"
        )
    maps = output if output.dim() == 4 else output[:, :, None, None]
    if output.dim() == 2 and position not in (None, "centre", (0, 0)):
        raise ValueError(f"position must be None: layer {layer!r} has no positions")
    height, width = maps.shape[-2:]
    if position == "centre":
        position = (height // 2, width // 2)
    if position is not None and (position[0] >= height or position[1] >= width):
        raise ValueError(
            f"position must lie in layer {layer!r}'s {height}x{width} map, got {position}"
        )
    rectified = F.relu(maps.detach())
    if channel == "all":
        summed = maps.sum(dim=1, keepdim=True)
        maps, rectified, channel = summed, F.relu(summed.detach()), 0
    images = torch.arange(len(maps), device=maps.device)
    if position is None:
        chosen = rectified if channel is None else rectified[:, channel : channel + 1]
        flat = chosen.flatten(1).argmax(dim=1)
        where = flat % (height * width)
        channels = flat // (height * width) if channel is None else torch.full_like(flat, channel)
        rows, cols = where // width, where % width
    else:
        rows = torch.full((len(maps),), position[0], device=maps.device)
        cols = torch.full((len(maps),), position[1], device=maps.device)
        if channel is None:
            channels = rectified[images, :, position[0], position[1]].argmax(dim=1)
        else:
            channels = torch.full((len(maps),), channel, device=maps.device)
    return maps[images, channels, rows, cols]


def _output_of(model: nn.Module, layer: str, images: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on ``images``; return what ``layer`` output (at its last call).

    A copy (still attached to the graph): an in-place ReLU after the layer would
    otherwise overwrite the output, and the gradient would pass through that ReLU.
    """
    captured = []
    module = dict(model.named_modules(remove_duplicate=False))[layer]
    module.register_forward_hook(lambda m, args, out: captured.append(_tensors(out)[0].clone()))
    model(images)  # the hook goes with model_left_as_found, around every call of this
    if not captured:
        raise ValueError(f"layer {layer!r} does not run when the model runs")
    return captured[-1]


def empirical_receptive_field(
    model: nn.Module,
    input_size: int | tuple[int, ...],
    layer: str | nn.Module,
    *,
    channel: int | str = "all",
    position: tuple[int, int] | str = "centre",
) -> torch.Tensor:
    """The input pixels that change one unit, found with gradients: an ``(H, W)`` bool mask.

    The unit is ``layer``'s output at ``position`` (``"centre"``, the default: the
    centre of its map; ``(0, 0)`` for a layer without positions, e.g. a Linear one),
    in one ``channel`` or, with ``"all"`` (the default), in all of them. A pixel
    belongs to the field when the derivative of the unit with respect to it is not
    zero. All channels is what the table of :func:`receptive_field` describes: after
    a concatenation (GoogLeNet) the channels of a 1x1 branch see less than those of
    a 3x3 branch, and the table gives the union.

    **How the measurement is made exact.** In a network as it is, a gradient can be
    zero inside the field for reasons that have nothing to do with the architecture:
    max pooling passes it to one input of each window, a ReLU stops it wherever its
    input is negative, and positive and negative weights can cancel. So the
    measurement runs on a *twin* of the model, with the same layers and connections
    but every max pooling (a module, or ``F.max_pool2d`` called in a ``forward``)
    replaced by average pooling over the same windows (kernel, stride, padding,
    ``ceil_mode``), every pointwise layer (ReLU, normalisation, dropout) by the
    identity, every convolution and linear layer given weights ``1 / fan-in`` and
    zero biases, on an input of ones. The twin is linear with positive coefficients:
    the derivative of the unit with respect to a pixel is a sum of positive
    products, one per path from the pixel to the unit, so it is positive exactly
    when such a path exists -- the definition of the receptive field. The ``1 /
    fan-in`` scale keeps every activation near 1 and every product far above
    float32's smallest number, even after tens of layers. A ReLU called as a
    function inside a ``forward`` (torchvision's GoogLeNet) stays, but never blocks:
    every activation of the twin is positive.

    Args:
        model: the network; only its structure is used, so it may live on the meta device.
        input_size: ``H``, ``(H, W)`` or ``(C, H, W)``, as for :func:`receptive_field`.
            The mask is in the pixels of the model's input (for the small models, which
            resize 28 -> 64 first, pass ``model.features`` and 64 to compare with the
            table).
        layer: a submodule or its dotted name (for a module called several times, its
            last call).
        channel: one of the layer's channels, or ``"all"``.
        position: ``(row, column)`` of the unit in the layer's map, or ``"centre"``.
            (``None``, "the strongest", has no meaning here: every unit of the twin is alike.)

    Returns:
        ``(H, W)`` bool tensor, ``True`` where a pixel reaches the unit (on the CPU).

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.MaxPool2d(2))
        >>> int(empirical_receptive_field(net, 10, "1").sum())  # 4x4 pixels
        16
    """
    _validate.module(model)
    name, _ = _validate.submodule(model, layer)
    channels, height, width = _input_shape(model, input_size)
    position, channel = _checked_unit(position, channel, empirical=True)
    twin = _linear_twin(model)
    images = torch.ones(1, channels, height, width, device="cpu", requires_grad=True)  # the twin
    try:
        with torch.enable_grad(), _AveragePooling():
            output = _output_of(twin, name, images)
            (gradient,) = torch.autograd.grad(_unit(output, position, channel, name).sum(), images)
    except RuntimeError as error:
        raise ValueError(
            f"input_size {(height, width)} does not fit the model (too small?): "
            f"{str(error).splitlines()[0]}"
        ) from error
    return gradient[0].ne(0).any(dim=0)


def effective_receptive_field(
    model: nn.Module,
    images: torch.Tensor,
    layer: str | nn.Module,
    *,
    channel: int | str | None = None,
    position: tuple[int, int] | str | None = None,
) -> torch.Tensor:
    """How strongly each input pixel moves one unit, on average (Luo et al. 2016).

    Luo, Li, Urtasun & Zemel (2016), "Understanding the Effective Receptive Field in
    Deep Convolutional Neural Networks", Sec. 2: put a gradient of 1 on the unit and 0
    on every other output, backpropagate to the input, and look at the magnitude of
    what arrives. Here: the absolute gradient of the unit with respect to each pixel
    (``torch.autograd.grad``: nothing is left on the model's weights), summed over
    the input channels, averaged over ``images``, and divided by its total, so the
    map sums to 1 (each pixel's share of the gradient). Unlike
    :func:`empirical_receptive_field`, this uses the model as it is (its weights, its
    ReLUs and max pools), in eval mode.

    Args:
        model: the network, with real (not meta) weights.
        images: ``(N, C, H, W)`` float inputs the average is taken over (moved to
            the model's device).
        layer: a submodule or its dotted name.
        channel: one channel; ``"all"`` for the sum over all channels; ``None``
            (default): each image's strongest (argmax of the rectified activation).
        position: ``(row, column)`` of the unit; ``"centre"`` for the map's centre;
            ``None`` (default): each image's strongest.

    Returns:
        ``(H, W)`` float tensor on the model's device, non-negative, summing to 1
        (all zeros if no gradient arrives at all).

    Example:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
        >>> erf = effective_receptive_field(net, torch.rand(4, 1, 8, 8), "1", position="centre")
        >>> erf.shape, round(float(erf.sum()), 4)
        (torch.Size([8, 8]), 1.0)
    """
    _validate.module(model)
    name, _ = _validate.submodule(model, layer)
    _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True, finite=True)
    position, channel = _checked_unit(position, channel)
    if any(p.is_meta for p in model.parameters()):
        raise ValueError("model must have real weights, not weights on the meta device")
    with model_left_as_found(model), torch.enable_grad():
        images = images.detach().to(device_of(model)).requires_grad_(True)
        output = _output_of(model, name, images)
        (gradient,) = torch.autograd.grad(_unit(output, position, channel, name).sum(), images)
    magnitude = gradient.abs().sum(dim=1).mean(dim=0)
    total = magnitude.sum()
    return magnitude / total if total > 0 else magnitude


def mass_fraction(erf: torch.Tensor, box: tuple[int, int, int, int], mass: float = 0.9) -> float:
    """The share of a theoretical field's pixels that holds ``mass`` of the effective field.

    Take the pixels of ``erf`` from the strongest down until they hold ``mass`` of its
    total; return how many that took, divided by the number of pixels in ``box``.
    Luo et al. (2016) find that the effective field fills only a fraction of the
    theoretical one; this measures that fraction.

    Args:
        erf: ``(H, W)`` non-negative map, e.g. from :func:`effective_receptive_field`.
        box: ``(x1, y1, x2, y2)`` the theoretical field, clipped to the image (from
            :func:`field_box`).
        mass: the share of the total to hold, in (0, 1].

    Returns:
        A fraction (not percent), in (0, 1] when ``erf`` lies inside ``box``.
    """
    _validate.tensor(erf, "erf", ndim=2, shape="(H, W)", floating=True, finite=True)
    if not isinstance(box, tuple | list) or len(box) != 4:
        raise TypeError(f"box must be a tuple (x1, y1, x2, y2), got {box!r}")
    x1, y1, x2, y2 = (_validate.integer(value, "box") for value in box)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"box must have x2 > x1 and y2 > y1, got {tuple(box)}")
    mass = _validate.number(mass, "mass", positive=True, max=1)
    if erf.min() < 0 or erf.sum() <= 0:
        raise ValueError("erf must be non-negative with a positive total")
    values = erf.flatten().sort(descending=True).values
    shares = values.cumsum(dim=0) / values.sum()
    needed = int((shares < mass - 1e-12).sum()) + 1
    return needed / ((x2 - x1) * (y2 - y1))
