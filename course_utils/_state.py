"""Leave the caller's model as it was found (private).

Every helper of ``course_utils`` that runs a model does so inside
:func:`model_left_as_found`. It records what a helper might change, sets the mode
the helper needs, and restores everything on the way out, also when the helper
raises:

* every submodule's ``training`` flag (``model.train(was_training)`` would put a
  BatchNorm the caller had frozen in eval mode back into train mode);
* every parameter's ``requires_grad`` and ``.grad``;
* the forward, forward-pre and backward hooks of every submodule (hooks a helper
  added and forgot are removed; the caller's own are kept);
* the ``inplace`` flag of every module that has one.

Parameter *values* are not copied (that would double the memory): a helper that
must change weights (ablation, randomisation) works on a copy of the model.

:func:`device_of` is the device a helper should create its tensors on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

_HOOKS = (
    "_forward_hooks",
    "_forward_pre_hooks",
    "_backward_hooks",
    "_backward_pre_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks_with_kwargs",
)


def device_of(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (or buffer); the CPU for a model with neither."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def dtype_of(model: nn.Module) -> torch.dtype:
    """The floating dtype of ``model``'s first floating parameter; ``float32`` otherwise."""
    for tensor in model.parameters():
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


@contextmanager
def model_left_as_found(model: nn.Module, *, train: bool = False) -> Iterator[nn.Module]:
    """Run ``model`` in eval mode (``train=True``: train mode), then restore it exactly.

    Yields the model itself (not a copy). On exit, whatever happened inside,
    every submodule's mode, every parameter's ``requires_grad`` and ``.grad``
    (the same tensor object), the hooks and ``inplace`` flags are as they were.

    Example::

        with model_left_as_found(model):
            scores = model(images)
    """
    modules = list(model.modules())
    modes = [module.training for module in modules]
    inplace = [getattr(module, "inplace", None) for module in modules]
    hooks = [{name: dict(getattr(module, name, {})) for name in _HOOKS} for module in modules]
    parameters = list(model.parameters())
    requires_grad = [p.requires_grad for p in parameters]
    grads = [p.grad for p in parameters]
    model.train(train)
    try:
        yield model
    finally:
        for module, mode, flag, saved in zip(modules, modes, inplace, hooks, strict=True):
            module.training = mode
            if flag is not None:
                module.inplace = flag
            for name, entries in saved.items():
                current = getattr(module, name, None)
                if current is not None and dict(current) != entries:
                    current.clear()
                    current.update(entries)
        for p, flag, grad in zip(parameters, requires_grad, grads, strict=True):
            p.requires_grad_(flag)
            p.grad = grad
