"""The deconvnet: project one unit's activation back to pixel space.

Zeiler & Fergus (2014), Sec. 2.1: "To examine a given convnet activation, we set
all other activations in the layer to zero and pass the feature maps as input to
the attached deconvnet layer. Then we successively (i) unpool, (ii) rectify and
(iii) filter to reconstruct the activity in the layer beneath that gave rise to
the chosen activation. This is then repeated until input pixel space is reached."

Going down through the layers a unit's signal was computed with:

* **max pooling** -- unpool: put each value back where its pooling window found
  its maximum (the switches of :mod:`course_utils.unpooling`; overlapping windows
  that share a switch add up there);
* **convolution** -- filter with "transposed versions of the same filters"
  (``F.conv_transpose2d`` with the layer's own weights, grouped convolutions
  included; no bias);
* **ReLU** -- :func:`rectify`. This is the only step where three well-known
  methods differ, so ``rule`` picks one and the rest of the code is shared.
  For the signal ``g`` coming down and the ReLU's input ``x`` on the way up:

  ============= ============================= ==========================================
  ``rule``      rule at each ReLU             method
  ============= ============================= ==========================================
  "deconvnet"   ``relu(g)``                   Zeiler & Fergus (2014), Sec. 2.1
  "gradient"    ``g * (x > 0)``               saliency, Simonyan et al. (2014), Sec. 3
  "guided"      ``relu(g) * (x > 0)``         guided backprop., Springenberg et al. (2015)
  ============= ============================= ==========================================

  With "gradient" the projection is exactly the gradient of the unit's
  activation with respect to the input pixels, times that activation (in a
  model with normalisation layers, with ``lrn="gradient"``; see below).

**Local response normalisation.** The course's AlexNet and ZFNet normalise after
conv1 and conv2. The paper describes only unpooling, rectification and
filtering, and says nothing of normalisation, so by default (``lrn="identity"``)
the signal passes through a normalisation layer unchanged. ``lrn="gradient"`` multiplies it by the layer's
true Jacobian (transposed) instead, which is what autograd and Captum do; with
``rule="gradient"`` that gives the exact gradient of the whole network.

**Layers.** The unit's layer must sit in ``model.features`` (or in ``model``
itself, if that is an ``nn.Sequential``), and every layer before it must be a
``Conv2d`` (any stride, padding, dilation or groups), ``ReLU``, ``MaxPool2d``
(overlapping windows, padding, ``ceil_mode``) or a local response
normalisation; anything else raises a ``TypeError`` naming the layer. A module
listed twice (one ``nn.ReLU`` used after two convolutions) is followed at each
place it runs. Before projecting, one image goes up both ways, through the model
itself and layer by layer through ``features``; if the two disagree at the layer
(the model's ``forward`` does something between the layers, such as ``F.relu``),
the call is refused with a ``ValueError`` rather than answering about another
network.

**Which unit.** ``channel`` and ``position`` choose it; ``None`` means "the
strongest": the argmax of the *rectified* activation, per image, as the paper
projects the activations after the ReLU. The signal starts as that rectified
activation, so a unit that is not positive projects to zeros (with a warning).

**Only the receptive field is computed.** A unit at one position of its map
sees only a window of the map below (its receptive field there), and the signal
going down is zero outside that window. So each step works on the window alone:
a transposed convolution turns an ``h``-wide window into ``(h - 1) * stride +
kernel`` pixels, which is exactly how a receptive field grows. The result is the
same as working on whole maps, with far less work for units of low layers.

**Batching.** Many units are projected at once: the forward pass that records
ReLU masks and switches is run once per image, however many of its units are
projected, and every step going down treats a batch of windows, one per unit,
each cut from its own image's recorded maps.
"""

from __future__ import annotations

import warnings

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.utils import _pair
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found
from .models import SmallNet
from .normalization import LocalResponseNorm
from .unpooling import max_pool_with_switches, unpool

__all__ = ["RULES", "DeconvNet", "rectify", "top_activations"]

#: The three ReLU rules; see the module's table.
RULES = ("deconvnet", "gradient", "guided")

_NORMALIZATIONS = (LocalResponseNorm, nn.LocalResponseNorm)


def rectify(signal: torch.Tensor, forward_input: torch.Tensor, rule: str) -> torch.Tensor:
    """The backward step through a ReLU: the one place where the three methods differ.

    Args:
        signal: ``(N, C, H, W)`` signal coming down from the layer above.
        forward_input: the ReLU's input on the way up, same shape (only its sign
            is used, so a boolean ``x > 0`` mask works too).
        rule: ``"deconvnet"``: ``relu(signal)``, Zeiler & Fergus (2014), Sec. 2.1;
            ``"gradient"``: ``signal * (x > 0)``, the true derivative;
            ``"guided"``: ``relu(signal) * (x > 0)``, guided backpropagation, Springenberg et al. (2015).

    Returns:
        ``(N, C, H, W)`` signal for the layer below.
    """
    _validate.tensor(signal, "signal", floating=True, nonempty=False)
    _validate.tensor(forward_input, "forward_input", nonempty=False)
    if forward_input.shape != signal.shape:
        raise ValueError(
            f"forward_input must have signal's shape {tuple(signal.shape)}, "
            f"got {tuple(forward_input.shape)}"
        )
    _validate.one_of(rule, "rule", RULES)
    return _rectify(signal, forward_input, rule)


def _rectify(signal: torch.Tensor, forward_input: torch.Tensor, rule: str) -> torch.Tensor:
    """:func:`rectify` without the checks (the way down calls it once per ReLU)."""
    if rule == "deconvnet":
        return F.relu(signal)
    passed = forward_input > 0
    if rule == "gradient":
        return torch.where(passed, signal, 0)
    return torch.where(passed, F.relu(signal), 0)


# ---------------------------------------------------------------------------
# The algorithm: which layers, the way up, the way down.


def _layers_up_to(model: nn.Module, name: str) -> list[tuple[str, nn.Module]]:
    """The layers that compute ``name``'s output from the input, in order: (dotted name, module)."""
    parts = name.split(".")
    if isinstance(model, nn.Sequential):
        container, prefix = model, ""
    elif parts[0] == "features" and isinstance(getattr(model, "features", None), nn.Sequential):
        container, prefix, parts = model.features, "features.", parts[1:]
    else:
        raise ValueError(f"layer {name!r} must be in model.features (or model an nn.Sequential)")
    path = [] if parts else [(name, container)]
    for depth, part in enumerate(parts):  # everything before the layer, and the layer
        names = list(container._modules)  # a module used twice is listed twice
        path += [
            (prefix + child, container._modules[child]) for child in names[: names.index(part) + 1]
        ]
        if depth < len(parts) - 1:
            container, prefix = path.pop()[1], prefix + part + "."
            if not isinstance(container, nn.Sequential):
                raise ValueError(f"layer {name!r} must sit in nn.Sequential blocks")
    for where, module in path:
        for sub, inner in module.named_modules(remove_duplicate=False):
            if list(inner.children()) and not isinstance(inner, nn.Sequential):
                raise TypeError(
                    f"layer {name!r}: the deconvnet follows nn.Sequential blocks only; "
                    f"{f'{where}.{sub}'.strip('.')!r} is a {type(inner).__name__} whose forward "
                    "it cannot see"
                )
    layers = [
        (f"{top}.{sub}".strip("."), leaf)
        for top, module in path
        for sub, leaf in module.named_modules(remove_duplicate=False)
        if not list(leaf.children())
    ]
    for where, layer in layers:
        if not _reversible(layer):
            raise TypeError(
                f"layer {name!r}: the deconvnet goes back through Conv2d (zero padding), ReLU, "
                f"MaxPool2d (no dilation) and local response normalisation only; "
                f"{where!r} is {layer!r}"
            )
    return layers


def _reversible(layer: nn.Module) -> bool:
    if isinstance(layer, nn.Conv2d):
        return not isinstance(layer.padding, str) and layer.padding_mode == "zeros"
    if isinstance(layer, nn.MaxPool2d):
        return _pair(layer.dilation) == (1, 1)
    return isinstance(layer, (nn.ReLU, *_NORMALIZATIONS))


def _forward(layers: list[tuple[str, nn.Module]], x: torch.Tensor):
    """Run ``x`` up through ``layers``; record what the way down needs.

    Returns the last layer's output and, per layer, ``(input height and width,
    record)``: where the ReLU's input was positive, the pooling switches, the
    normalisation's input (``None`` for a convolution: it needs only its weights).
    """
    records = []
    for _, layer in layers:
        size = tuple(x.shape[-2:])
        if isinstance(layer, nn.Conv2d):
            records.append((size, None))
            x = layer(x)
        elif isinstance(layer, nn.ReLU):
            records.append((size, x > 0))
            x = F.relu(x)
        elif isinstance(layer, nn.MaxPool2d):
            x, switches = max_pool_with_switches(
                x, layer.kernel_size, layer.stride, layer.padding, ceil_mode=layer.ceil_mode
            )
            records.append((size, switches))
        else:
            records.append((size, x))
            x = layer(x)
    return x, records


def _project_down(layers, records, top, image_index, channels, positions, rule, lrn):
    """Project one activation per unit down to the input: the deconvnet itself.

    ``top`` is the layer's ``(N, C, h, w)`` output on the way up; unit b is
    ``channels[b]`` at ``positions[b]`` (row, column) in image ``image_index[b]``.
    Returns each unit's projection inside its receptive field, ``(B, C_in, h, w)``,
    and the field's top-left corner in the input, ``(B, 2)`` (row, column; may be
    negative where the field overhangs the image: the signal there is zero).
    """
    # Keep only the chosen activation: a 1x1 window at the unit's position, all
    # channels zero but the unit's own, which holds its activation.
    units = torch.arange(len(channels), device=top.device)
    signal = top.new_zeros(len(channels), top.shape[1], 1, 1)
    chosen = top[image_index, channels, positions[:, 0], positions[:, 1]]
    signal[units, channels, 0, 0] = F.relu(chosen)  # the paper projects rectified activations
    offset, above = positions, tuple(top.shape[-2:])
    for (_, layer), (size, record) in zip(reversed(layers), reversed(records), strict=True):
        here = _window(offset, signal.shape[-2:], above)  # the window in the layer's output
        if isinstance(layer, nn.MaxPool2d):  # (i) unpool with the switches
            (kh, kw), (sh, sw) = _pair(layer.kernel_size), _pair(layer.stride)
            offset = offset * offset.new_tensor((sh, sw)) - offset.new_tensor(_pair(layer.padding))
            below = ((signal.shape[-2] - 1) * sh + kh, (signal.shape[-1] - 1) * sw + kw)
            switches = _crop(record, image_index, here)  # they index the whole map below:
            rows = switches // size[1] - offset[:, 0, None, None, None]  # make them index
            cols = switches % size[1] - offset[:, 1, None, None, None]  # the window there
            signal = unpool(signal, torch.where(here[1], rows * below[1] + cols, 0), below)
        elif isinstance(layer, nn.ReLU):  # (ii) rectify
            signal = _rectify(signal, _crop(record, image_index, here), rule)
        elif isinstance(layer, nn.Conv2d):  # (iii) filter with the transposed filters
            signal = F.conv_transpose2d(
                signal,
                layer.weight,
                stride=layer.stride,
                dilation=layer.dilation,
                groups=layer.groups,
            )
            offset = offset * offset.new_tensor(layer.stride) - offset.new_tensor(layer.padding)
            signal = torch.where(_window(offset, signal.shape[-2:], size)[1], signal, 0)
        elif lrn == "gradient":  # normalisation: its Jacobian, transposed
            x = _crop(record, image_index, here).requires_grad_()
            with torch.enable_grad():
                signal = torch.autograd.grad(layer(x), x, signal)[0]
        # else a normalisation with lrn="identity": passed through unchanged, as in the paper
        above = size
    return signal, offset


# ---------------------------------------------------------------------------
# Batching: every unit carries its own window (its receptive field at that
# layer), cut from its own image's records; windows go back into whole images.


def _window(offset: torch.Tensor, size: tuple[int, int], map_size: tuple[int, int]):
    """Flat indices into a ``map_size`` map of each unit's window, and where the window is inside it.

    ``offset`` is ``(B, 2)``: each window's top-left (row, column) in the map, possibly
    negative or past its edge. Returns ``(B, h * w)`` indices (0 outside the map) and
    a ``(B, 1, h, w)`` boolean mask of the positions inside it.
    """
    rows = offset[:, 0, None] + torch.arange(size[0], device=offset.device)  # (B, h)
    cols = offset[:, 1, None] + torch.arange(size[1], device=offset.device)  # (B, w)
    inside = ((rows >= 0) & (rows < map_size[0]))[:, :, None] & (
        (cols >= 0) & (cols < map_size[1])
    )[:, None, :]
    index = torch.where(inside, rows[:, :, None] * map_size[1] + cols[:, None, :], 0)
    return index.flatten(1), inside[:, None]


def _crop(maps: torch.Tensor, image_index: torch.Tensor, window) -> torch.Tensor:
    """``(N, C, H, W)`` recorded maps -> ``(B, C, h, w)``: unit b's window of image ``image_index[b]``."""
    index, inside = window
    cut = maps.flatten(2)[image_index[:, None], :, index]  # (B, h * w, C)
    cut = cut.transpose(1, 2).reshape(len(index), maps.shape[1], *inside.shape[-2:])
    return cut.masked_fill(~inside, 0)


def _paste(pixels: torch.Tensor, rows: torch.Tensor, signal: torch.Tensor, offset: torch.Tensor):
    """Add each unit's window ``signal[b]`` into image ``pixels[rows[b]]`` at ``offset[b]`` (in place)."""
    index, inside = _window(offset, signal.shape[-2:], pixels.shape[-2:])
    channels = torch.arange(pixels.shape[1], device=pixels.device)
    flat = pixels.view(*pixels.shape[:2], -1)
    where = (rows[:, None, None], channels[None, :, None], index[:, None, :])
    flat.index_put_(where, (signal * inside).flatten(2), accumulate=True)


def _check_model(model: nn.Module) -> None:
    if any(t.is_meta for t in model.parameters()):
        raise ValueError("model has weights on the meta device: the deconvnet needs real weights")


def _check_images(model: nn.Module, images, *, dataset: bool = False):
    """``images`` itself if it is a ``(N, C, H, W)`` float tensor the model takes (or a ``Dataset``)."""
    if dataset and isinstance(images, Dataset):
        return images
    _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)
    if images.is_meta:
        raise ValueError("images are on the meta device: they need real values")
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first is not None and images.shape[1] != first.in_channels:
        raise ValueError(
            f"images must have the {first.in_channels} channels the model's first convolution "
            f"takes, got shape {tuple(images.shape)}"
        )
    if images.dtype != dtype_of(model):
        raise ValueError(
            f"images must have the model's dtype {dtype_of(model)}, got {images.dtype} "
            f"(convert with images.to({dtype_of(model)}))"
        )
    return images


def _as_features_see_them(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The course's small models resize their input before ``features``; do the same."""
    return model.resize(images) if isinstance(model, SmallNet) else images


class _Reached(Exception):
    """Raised by a hook to stop a forward pass at the layer it watches."""


def _check_walk(model, layers, module, name, images) -> None:
    """The walk through ``layers`` must give what the model itself computes at ``module``.

    One image goes through the model with a hook on the layer; a forward that does
    something the walk cannot see (``F.relu`` called in a ``forward``, a resize, a
    module applied twice in a way the walk does not follow) shows up as a difference.
    """
    seen = []

    calls = max(1, sum(leaf is module for _, leaf in layers))  # a module used twice

    def stop(_module, _inputs, output):
        seen.append(output.detach().clone())
        if len(seen) == calls:
            raise _Reached  # nothing after the layer needs to run

    handle = module.register_forward_hook(stop)
    try:
        model(images[:1])
    except _Reached:
        pass
    except (RuntimeError, TypeError, ValueError, IndexError) as error:
        raise ValueError(
            f"model cannot take images of shape {tuple(images.shape)}: {str(error).splitlines()[0]}"
        ) from None
    finally:
        handle.remove()
    walked = _forward(layers, _as_features_see_them(model, images[:1]))[0]
    if (
        not seen
        or seen[-1].shape != walked.shape
        or not torch.allclose(
            seen[-1], walked, rtol=1e-4, atol=1e-5 * float(walked.abs().max().clamp(min=1))
        )
    ):
        raise ValueError(
            f"layer {name!r}: going up through model.features layer by layer does not give "
            "what the model computes there; its forward does something the deconvnet cannot "
            "follow (e.g. F.relu or another operation between the layers)"
        )


def _choose_units(top: torch.Tensor, channel, position, name: str):
    """Each image's unit: ``(channels (N,), positions (N, 2))``; ``None`` picks the strongest.

    The strongest is the argmax of the rectified activation (``relu(top)``), over
    channels and/or positions, per image.
    """
    n, channels, height, width = top.shape
    if channel is not None and channel >= channels:
        raise ValueError(
            f"channel must be an int <= {channels - 1} (layer {name!r} has {channels} maps), "
            f"got {channel}"
        )
    if position == "centre":
        position = (height // 2, width // 2)
    if position is not None and (position[0] >= height or position[1] >= width):
        raise ValueError(
            f"position {position} is outside the {height}x{width} map of layer {name!r}"
        )
    rectified = F.relu(top)
    images = torch.arange(n, device=top.device)
    if position is None:
        maps = rectified if channel is None else rectified[:, channel : channel + 1]
        flat = maps.flatten(1).argmax(dim=1)
        where = flat % (height * width)
        chosen = flat // (height * width) if channel is None else torch.full_like(flat, channel)
        positions = torch.stack((where // width, where % width), dim=1)
    else:
        positions = top.new_tensor(position, dtype=torch.int64).expand(n, 2)
        if channel is None:
            chosen = rectified[images, :, position[0], position[1]].argmax(dim=1)
        else:
            chosen = torch.full((n,), channel, device=top.device)
    return chosen, positions


def _warn_if_not_positive(values: torch.Tensor) -> None:
    silent = int((values <= 0).sum())
    if silent:
        warnings.warn(
            f"{silent} of the {len(values)} units are not positive (activation <= 0): the "
            "deconvnet projects rectified activations, so their projections are zero",
            stacklevel=4,
        )


def _check_units(top: pd.DataFrame, shape: tuple[int, int, int], name: str) -> None:
    """Every unit of ``top`` lies in ``layer``'s ``(C, h, w)`` output."""
    channels, height, width = shape
    if not (
        top["channel"].between(0, channels - 1).all()
        and top["row"].between(0, height - 1).all()
        and top["column"].between(0, width - 1).all()
    ):
        raise ValueError(
            f"top has units outside the {channels} maps of {height}x{width} of layer {name!r}"
        )


def _images_at(images, index: torch.Tensor) -> torch.Tensor:
    """The images at ``index`` of a tensor, or of a ``Dataset`` of images or (image, label) pairs."""
    if isinstance(images, torch.Tensor):
        return images[index]
    items = [images[int(i)] for i in index]
    return torch.stack([item[0] if isinstance(item, tuple | list) else item for item in items])


class DeconvNet:
    """Project units of a CNN's feature maps back to pixel space (Zeiler & Fergus 2014, Sec. 2.1).

    A *unit* is one position in one feature map (channel) of one layer. Its
    projection keeps that unit's activation, sets every other activation of the
    layer to zero, and carries the signal down to the input with unpooling,
    rectification and transposed filtering (see the module's notes for the
    three ``rule`` s and for normalisation layers).

    Args:
        model: a CNN whose ``features`` block (or the model itself, if it is an
            ``nn.Sequential``) is made of ``Conv2d``, ``ReLU``, ``MaxPool2d`` and
            local response normalisation, e.g. :func:`course_utils.models.alexnet`,
            :func:`course_utils.models.zfnet`, the small models, or torchvision's
            AlexNet. The model is used as it is (nothing is copied or changed).
        lrn: ``"identity"`` (the paper's deconvnet: normalisation layers pass the
            signal through unchanged) or ``"gradient"`` (their true Jacobian,
            transposed, as autograd would).

    **Pixels.** Projections are in the pixels that ``features`` sees: the
    input's own for every model except the course's small ones, which resize
    their 28x28 input to 64x64 first (``model.resize``, bilinear);
    their projections are 64x64, as :mod:`course_utils.receptive_field` counts
    their pixels too.

    Example::

        model = cu.models.load_pretrained("small_alexnet")
        pixels = DeconvNet(model).project(images, "features.8", channel=5)  # (N, 1, 64, 64)
    """

    def __init__(self, model: torch.nn.Module, *, lrn: str = "identity"):
        self.model = _validate.module(model, "model")
        self.lrn = _validate.one_of(lrn, "lrn", ("identity", "gradient"))

    @torch.no_grad()
    def project(
        self,
        images: torch.Tensor,
        layer: nn.Module | str,
        *,
        channel: int | None = None,
        position: tuple[int, int] | str | None = None,
        rule: str = "deconvnet",
    ) -> torch.Tensor:
        """Project one unit per image back to pixel space.

        Args:
            images: ``(N, C, H, W)`` float images, as the model takes them (its
                channels and dtype; moved to the model's device).
            layer: a submodule of the model or its dotted name, e.g. ``"features.3"``.
            channel: the feature map of ``layer``'s output; ``None``: each image's
                strongest (the argmax of the rectified activation).
            position: ``(row, column)`` of the unit in that map, the same for every
                image; ``"centre"`` for the map's centre; ``None``: each image's
                strongest position (in ``channel``, or over all channels).
            rule: ``"deconvnet"``, ``"gradient"`` or ``"guided"`` (:func:`rectify`).

        Returns:
            ``(N, C, H, W)`` float tensor on the model's device (see *Pixels* above):
            for each image, its unit's rectified activation carried down to the
            pixels, zero outside the unit's receptive field. The signal starts as
            ``relu(activation)`` (the paper projects the activations after the
            ReLU), so the projection scales with it; a unit whose activation is not
            positive gives zeros, with a warning.

        Example:
            >>> import torch, course_utils as cu
            >>> model = cu.models.load_pretrained("small_alexnet")
            >>> images = cu.data.load_fashion_mnist("test", verbose=False).tensors()[0][:2]
            >>> DeconvNet(model).project(images, "features.4", channel=5).shape
            torch.Size([2, 1, 64, 64])
        """
        _check_model(self.model)
        images = _check_images(self.model, images)
        name, module = _validate.submodule(self.model, layer, "layer")
        if channel is not None:
            channel = _validate.integer(channel, "channel", min=0)
        position = _validate.position(position)
        rule = _validate.one_of(rule, "rule", RULES)
        layers = _layers_up_to(self.model, name)
        with model_left_as_found(self.model):
            images = images.to(device_of(self.model))
            _check_walk(self.model, layers, module, name, images)
            top, records = _forward(layers, _as_features_see_them(self.model, images))
            channels, positions = _choose_units(top, channel, position, name)
            units = torch.arange(len(images), device=top.device)
            _warn_if_not_positive(top[units, channels, positions[:, 0], positions[:, 1]])
            signal, offset = _project_down(
                layers, records, top, units, channels, positions, rule, self.lrn
            )
            pixels = _as_features_see_them(self.model, torch.zeros_like(images))
            _paste(pixels, units, signal, offset)
        return pixels

    @torch.no_grad()
    def project_top(
        self,
        images: torch.Tensor | Dataset,
        layer: nn.Module | str,
        top: pd.DataFrame,
        *,
        rule: str = "deconvnet",
        batch_size: int = 64,
        progress: bool = False,
    ) -> torch.Tensor:
        """Project every unit of a :func:`top_activations` table, many at a time.

        Args:
            images: the images ``top`` was computed on (its ``image`` column indexes them).
            layer: the layer ``top`` was computed for (checked against
                ``top.attrs["layer"]``, which :func:`top_activations` records).
            top: a table with columns ``image``, ``channel``, ``row``, ``column``,
                one unit per row, e.g. from :func:`top_activations`.
            rule: as in :meth:`project`.
            batch_size: images that go up, and units that come down, at once (memory
                only; results do not depend on it).
            progress: show a progress bar.

        Returns:
            ``(len(top), C, H, W)`` float tensor on the model's device, one projection
            per row of ``top``, in its order (see *Pixels* above).

        Example:
            >>> import course_utils as cu
            >>> model = cu.models.load_pretrained("small_alexnet")
            >>> images = cu.data.load_fashion_mnist("test", verbose=False).tensors()[0][:20]
            >>> top = top_activations(model, images, "features.4", k=2)
            >>> DeconvNet(model).project_top(images, "features.4", top).shape
            torch.Size([96, 1, 64, 64])
        """
        _check_model(self.model)
        images = _check_images(self.model, images, dataset=True)
        name, module = _validate.submodule(self.model, layer, "layer")
        rule = _validate.one_of(rule, "rule", RULES)
        batch_size = _validate.integer(batch_size, "batch_size", min=1)
        progress = _validate.flag(progress, "progress")
        _validate.table(top, "top", ("image", "channel", "row", "column"), "top_activations()")
        if top.attrs.get("layer", name) != name:
            raise ValueError(
                f"top was computed at layer {top.attrs['layer']!r} (top.attrs['layer']), "
                f"not at layer {name!r}"
            )
        if not top["image"].between(0, len(images) - 1).all():
            raise ValueError(f"top's image column must index the {len(images)} images")
        layers = _layers_up_to(self.model, name)
        device = device_of(self.model)
        image_index = torch.tensor(top["image"].to_numpy(dtype="int64", copy=True), device="cpu")
        channels = torch.tensor(top["channel"].to_numpy(dtype="int64", copy=True), device=device)
        positions = torch.tensor(
            top[["row", "column"]].to_numpy(dtype="int64", copy=True), device=device
        )
        pixels = None
        # Images go up batch_size at a time, each once; their units come down
        # batch_size at a time, each unit with its own image's records.
        used = torch.unique(image_index)
        with model_left_as_found(self.model):
            for some in tqdm(
                used.split(batch_size), desc=f"projecting {name}", disable=not progress
            ):
                batch = _images_at(images, some).to(device)
                if pixels is None:
                    _check_images(self.model, batch)
                    _check_walk(self.model, layers, module, name, batch)
                batch = _as_features_see_them(self.model, batch)
                maps, records = _forward(layers, batch)
                if pixels is None:
                    _check_units(top, maps.shape[1:], name)
                    pixels = batch.new_zeros(len(top), *batch.shape[1:])
                mine = torch.isin(image_index, some).nonzero()[:, 0]
                for units in mine.to(device).split(batch_size):
                    local = torch.searchsorted(some.to(device), image_index.to(device)[units])
                    window = _project_down(
                        layers,
                        records,
                        maps,
                        local,
                        channels[units],
                        positions[units],
                        rule,
                        self.lrn,
                    )
                    _paste(pixels, units, *window)
        return pixels


@torch.no_grad()
def top_activations(
    model: nn.Module,
    images: torch.Tensor | Dataset,
    layer: nn.Module | str,
    *,
    k: int = 9,
    batch_size: int = 100,
    progress: bool = False,
) -> pd.DataFrame:
    """The ``k`` strongest activations of every feature map of ``layer`` over a set of images.

    Zeiler & Fergus (2014), Fig. 2, show for each feature map "the top 9
    activations ... across the validation data". Here each image counts at most
    once per map, at its strongest position, so the ``k`` rows of a map come
    from ``k`` different images.

    Args:
        model: as for :class:`DeconvNet`.
        images: ``(N, C, H, W)`` float images as the model takes them, or a
            ``Dataset`` of ``(C, H, W)`` images or of ``(image, label)`` pairs, such as
            :func:`course_utils.data.load_fashion_mnist` returns.
        layer: a submodule of the model or its dotted name.
        k: activations kept per feature map (at most ``N``).
        batch_size: images per forward pass (memory only; results do not depend on it).
        progress: show a progress bar.

    Returns:
        A table with ``C * k`` rows, sorted by ``channel`` then ``rank`` (0 = strongest):
        ``channel``, ``rank``, ``image`` (index into ``images``), ``row``,
        ``column`` (the position in ``layer``'s output map) and ``activation``.
        Ties keep the earlier image. ``table.attrs["layer"]`` records the layer's
        name (:meth:`DeconvNet.project_top` checks it).

    Example:
        >>> import course_utils as cu
        >>> model = cu.models.load_pretrained("small_alexnet")
        >>> images = cu.data.load_fashion_mnist("test", verbose=False).tensors()[0][:20]
        >>> top = top_activations(model, images, "features.4", k=2)
        >>> list(top.columns), len(top), top.attrs["layer"]
        (['channel', 'rank', 'image', 'row', 'column', 'activation'], 96, 'features.4')
    """
    _validate.module(model, "model")
    _check_model(model)
    images = _check_images(model, images, dataset=True)
    name, module = _validate.submodule(model, layer, "layer")
    k = _validate.integer(k, "k", min=1)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    progress = _validate.flag(progress, "progress")
    if k > len(images):
        raise ValueError(f"k must be at most the number of images ({len(images)}), got {k}")
    layers = _layers_up_to(model, name)
    device = device_of(model)
    best = None  # (value, flat position, image) of the k best so far, each (k, C)
    with model_left_as_found(model):
        for start in tqdm(
            range(0, len(images), batch_size),
            desc=f"top activations of {name}",
            disable=not progress,
        ):
            index = torch.arange(start, min(start + batch_size, len(images)), device="cpu")
            batch = _images_at(images, index).to(device)
            if best is None:
                _check_images(model, batch)
                _check_walk(model, layers, module, name, batch)
            maps = _forward(layers, _as_features_see_them(model, batch))[0]
            values, where = maps.flatten(2).max(dim=2)  # (b, C): each image's strongest position
            width = maps.shape[-1]
            found = (values, where, index.to(device)[:, None].expand_as(where))
            if best is not None:
                found = tuple(torch.cat(pair) for pair in zip(best, found, strict=True))
            keep = torch.sort(found[0], dim=0, descending=True, stable=True).indices[:k]
            best = tuple(part.gather(0, keep) for part in found)
    values, where, image = (part.T.flatten().cpu() for part in best)  # channel-major
    channels = maps.shape[1]
    table = pd.DataFrame(
        {
            "channel": torch.arange(channels, device="cpu").repeat_interleave(k).numpy(),
            "rank": torch.arange(k, device="cpu").repeat(channels).numpy(),
            "image": image.numpy(),
            "row": (where // width).numpy(),
            "column": (where % width).numpy(),
            "activation": values.numpy(),
        }
    )
    table.attrs["layer"] = name
    return table
