"""Attribution today: which input pixels does a class score depend on, and how to test the answer.

Methods that grew out of the deconvnet, one function each, each with the
same entry point ``fn(model, images, *, target, ...)`` (Grad-CAM also takes the
``layer`` it reads):

* :func:`saliency`: the gradient of the class score with respect to the input
  (Simonyan et al. 2014, Sec. 3.1);
* :func:`guided_backprop`: the same walk down, with ReLUs that pass only positive
  signal, and only where their input was positive (Springenberg et al. 2015);
* :func:`deconvnet`: the same walk with the deconvnet's ReLU rule, positive signal
  wherever the ReLU was (Zeiler & Fergus 2014, Sec. 2.1);
* :func:`grad_cam`: a layer's maps weighted by their mean gradient (Selvaraju et al.
  2017, Eqs. 1 and 2);
* :func:`integrated_gradients`: (input - baseline) times the gradient averaged along
  the straight path between them (Sundararajan et al. 2017);
* :func:`smoothgrad`: the gradient averaged over noisy copies of the input
  (Smilkov et al. 2017).

``saliency``, ``guided_backprop`` and ``deconvnet`` differ only in the rule at
each ReLU on the way down, the three rules of :mod:`course_utils.deconvnet`
(there for one unit of a layer, here for a class score).

**Testing a map: deletion and insertion** (Petsiuk et al. 2018).
A map ranks the pixels. :func:`deletion_curve` replaces them by a ``baseline``
in that order, most important first, and records the probability of the class
after each step; a faithful map makes it fall fast (small area under the
curve). :func:`insertion_curve` starts from the baseline and puts the pixels
back in the same order; a faithful map makes it rise fast (large area). A
random order is the control every map must beat.

**Conventions** (shared with the other Part 3 modules):

* ``images`` are ``(N, C, H, W)`` float tensors as the model takes them; every
  map comes back with the images' shape ``(N, C, H, W)`` (Grad-CAM: ``(N, 1, H, W)``,
  upsampled bilinearly), on the model's device, detached. For the course's
  small networks that is the 28x28 image the student sees: the gradient goes
  back through the network's own resize to 64x64 (its transpose).
* ``target`` is the class whose score is explained: an ``int`` for every
  image, an ``(N,)`` int64 tensor, or ``None`` for each image's most probable
  class. The score is the model's raw output for that class (the logit), as in
  Captum when the model is the forward function.
* The model is left as found (``course_utils._state.model_left_as_found``):
  modes, ``requires_grad``, ``.grad``, hooks and ``inplace`` flags. Gradients are
  taken with ``torch.autograd.grad``, so no ``.grad`` appears on the weights.
* ReLUs are ``nn.ReLU`` modules; a ReLU called as ``F.relu`` inside ``forward``
  is invisible to ``guided_backprop`` and ``deconvnet`` (as to Captum's).

Each method equals Captum's (``Saliency(abs=False)``, ``GuidedBackprop``,
``Deconvolution``, ``LayerGradCam`` plus bilinear upsampling,
``IntegratedGradients`` with the same ``method``, ``NoiseTunnel`` over
``Saliency(abs=False)`` under the same noise) in ``tests/test_attribution.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import _validate
from ._state import device_of, model_left_as_found

__all__ = [
    "IG_METHODS",
    "Curve",
    "deconvnet",
    "deletion_curve",
    "grad_cam",
    "guided_backprop",
    "insertion_curve",
    "integrated_gradients",
    "saliency",
    "smoothgrad",
]

#: The quadrature rules of :func:`integrated_gradients` (Captum's names).
IG_METHODS = ("riemann_right", "gausslegendre")


# ---------------------------------------------------------------------------
# Shared steps: checks at the door, the class score, its gradient.


def _check_images(images) -> torch.Tensor:
    return _validate.tensor(images, "images", ndim=4, shape="(N, C, H, W)", floating=True)


def _check_target(target, scores: torch.Tensor) -> torch.Tensor:
    """``target`` as an ``(N,)`` int64 tensor of classes of ``scores`` (``None``: the argmax)."""
    n, classes = scores.shape
    if target is None:
        return scores.argmax(dim=1)
    if isinstance(target, torch.Tensor):
        if target.dtype != torch.int64 or target.shape not in ((), (n,)):
            raise ValueError(
                f"target must be an int, an (N,) int64 tensor with N = {n}, or None, "
                f"got {target.dtype} of shape {tuple(target.shape)}"
            )
        target = target.to(scores.device).expand(n)
    else:
        target = torch.full((n,), _validate.integer(target, "target"), device=scores.device)
    if target.min() < 0 or target.max() >= classes:
        raise ValueError(
            f"target must be a class in [0, {classes}), got values from "
            f"{int(target.min())} to {int(target.max())}"
        )
    return target


def _no_inplace(model: nn.Module) -> None:
    """Turn off in-place ReLUs (restored by ``model_left_as_found``): hooks need both sides."""
    for module in model.modules():
        if getattr(module, "inplace", None) is True:
            module.inplace = False


def _input_gradient(model: nn.Module, images: torch.Tensor, target) -> torch.Tensor:
    """d(score of ``target``)/d(images), ``(N, C, H, W)``; one backward pass for the batch.

    The images of a batch do not interact in eval mode, so the gradient of the
    sum of their scores is each image's own gradient.
    """
    x = images.detach().requires_grad_()
    with torch.enable_grad():
        scores = model(x)
        target = _check_target(target, scores)
        chosen = scores.gather(1, target[:, None]).sum()
        return torch.autograd.grad(chosen, x)[0]


def _prepared(model, images) -> torch.Tensor:
    """Check ``model`` and ``images``; ``images`` on the model's device, in its dtype."""
    _validate.module(model)
    return _check_images(images).to(device_of(model))


# ---------------------------------------------------------------------------
# Gradient, guided backpropagation, deconvnet: one rule at each ReLU.


def saliency(model: nn.Module, images: torch.Tensor, *, target, abs: bool = False) -> torch.Tensor:
    """The gradient of the class score with respect to the input (Simonyan et al. 2014, Sec. 3.1).

    "The magnitude of the derivative indicates which pixels need to be changed
    the least to affect the class score the most." The paper's image-specific
    saliency map is ``|w|`` (for colour images, its maximum over the channels).

    Args:
        model: a classifier, ``(N, C, H, W) -> (N, classes)`` scores.
        images: ``(N, C, H, W)`` float images.
        target: the class: ``int``, ``(N,)`` int64 tensor, or ``None`` (most probable).
        abs: ``False`` (default): the signed gradient. ``True``: its absolute value,
            which is what Captum's ``Saliency`` returns *by default* (``abs=True``):
            the sign, whether brightening a pixel raises or lowers the score, is
            then lost, and averages of it (``NoiseTunnel``) are averages of magnitudes.

    Returns:
        ``(N, C, H, W)`` float tensor on the model's device.

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> with torch.no_grad():
        ...     _ = model[1].weight.copy_(torch.tensor([[1.0, -2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0]]))
        >>> cu.attribution.saliency(model, torch.rand(1, 1, 2, 2), target=0).flatten().tolist()
        [1.0, -2.0, 0.0, 3.0]
    """
    images = _prepared(model, images)
    abs = _validate.flag(abs, "abs")
    with model_left_as_found(model):
        gradient = _input_gradient(model, images, target)
    return gradient.abs() if abs else gradient


class _ReLUWithRule(torch.autograd.Function):
    """``relu(x)`` on the way up; on the way down, the rule of guided backprop or the deconvnet."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, rule: str) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.rule = rule
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, signal: torch.Tensor):
        (x,) = ctx.saved_tensors
        if ctx.rule == "deconvnet":  # relu(g): wherever the ReLU was
            return signal.clamp(min=0), None
        return torch.where(x > 0, signal.clamp(min=0), 0), None  # guided: relu(g) * [x > 0]


def _gradient_with_relu_rule(model, images, target, rule: str) -> torch.Tensor:
    """The input gradient with every ``nn.ReLU``'s backward step replaced by ``rule``."""
    images = _prepared(model, images)
    with model_left_as_found(model):
        _no_inplace(model)
        relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
        handles = [
            relu.register_forward_hook(
                lambda _m, inputs, _out: _ReLUWithRule.apply(inputs[0], rule)
            )
            for relu in relus
        ]
        try:
            return _input_gradient(model, images, target)
        finally:
            for handle in handles:
                handle.remove()


def guided_backprop(model: nn.Module, images: torch.Tensor, *, target) -> torch.Tensor:
    """Guided backpropagation (Springenberg et al. 2015).

    The gradient of the class score, except at each ReLU: the signal ``g``
    coming down becomes ``relu(g) * [x > 0]`` (``x``: the ReLU's input on the way
    up), so only positive signal passes, and only where the ReLU was on. It
    "combines" the gradient's rule (``g * [x > 0]``) with the deconvnet's (``relu(g)``).

    Args:
        model, images, target: as for :func:`saliency`.

    Returns:
        ``(N, C, H, W)`` float tensor on the model's device.

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2, 2),
        ...                             torch.nn.ReLU(), torch.nn.Linear(2, 1))
        >>> with torch.no_grad():
        ...     _ = model[1].weight.copy_(torch.eye(2)), model[1].bias.zero_()
        ...     _ = model[3].weight.copy_(torch.tensor([[1.0, -1.0]]))
        >>> x = torch.tensor([[[[1.0, 2.0]]]])  # both ReLUs on
        >>> cu.attribution.guided_backprop(model, x, target=0).flatten().tolist()
        [1.0, 0.0]
        >>> cu.attribution.saliency(model, x, target=0).flatten().tolist()
        [1.0, -1.0]
    """
    return _gradient_with_relu_rule(model, images, target, "guided")


def deconvnet(model: nn.Module, images: torch.Tensor, *, target) -> torch.Tensor:
    """The deconvnet's walk down from a class score (Zeiler & Fergus 2014, Sec. 2.1).

    At each ReLU the signal ``g`` becomes ``relu(g)``, wherever the ReLU was;
    pooling goes back through its switches and convolutions through their
    transposed filters, as the gradient does (Simonyan et al. 2014, Sec. 4).
    :class:`course_utils.deconvnet.DeconvNet` does this from one unit of a layer;
    this function starts from the class score, as Captum's ``Deconvolution``
    does, and goes through every layer, normalisation included (its true
    Jacobian, like ``DeconvNet(model, lrn="gradient")``).

    Args:
        model, images, target: as for :func:`saliency`.

    Returns:
        ``(N, C, H, W)`` float tensor on the model's device.
    """
    return _gradient_with_relu_rule(model, images, target, "deconvnet")


# ---------------------------------------------------------------------------
# Grad-CAM: a layer's maps, weighted by how much the class score depends on them.


def grad_cam(
    model: nn.Module, images: torch.Tensor, layer: nn.Module | str, *, target, relu: bool = True
) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al. 2017, Sec. 3, Eqs. 1 and 2), upsampled to the input's size.

    For the maps ``A^k`` of ``layer`` (``k`` = channel) and the class score ``y``:

    * ``alpha_k = mean over positions (i, j) of dy / dA^k_ij`` (Eq. 1: the
      gradients "global-average-pooled");
    * ``L = ReLU(sum_k alpha_k A^k)`` (Eq. 2), a map at the layer's resolution;
    * ``L`` upsampled to the input's ``(H, W)`` by bilinear interpolation
      (``F.interpolate(..., mode="bilinear", align_corners=False)``), as the
      paper does to overlay it on the image (Sec. 3, "Guided Grad-CAM").

    **CAM** (Zhou et al. 2016) is the special case of a network that ends in
    global average pooling and one linear layer: there ``alpha_k`` is the
    linear layer's weight, up to a constant (Selvaraju et al., Sec. 3.1).

    Args:
        model, images, target: as for :func:`saliency`.
        layer: a submodule of ``model`` (or its dotted name) whose output is
            ``(N, K, h, w)``; the paper uses the last convolutional layer.
        relu: apply Eq. 2's ReLU (default). ``False`` keeps negative evidence
            (Captum's ``LayerGradCam`` default, ``relu_attributions=False``).

    Returns:
        ``(N, 1, H, W)`` float tensor on the model's device: one map per image,
        at the input's height and width, the same for every channel.

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, padding=1),
        ...                             torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
        ...                             torch.nn.Linear(2, 3))
        >>> cu.attribution.grad_cam(model, torch.rand(4, 1, 8, 8), model[0], target=1).shape
        torch.Size([4, 1, 8, 8])
    """
    images = _prepared(model, images)
    _, module = _validate.submodule(model, layer, "layer")
    relu = _validate.flag(relu, "relu")
    captured = []
    with model_left_as_found(model):
        _no_inplace(model)  # the next ReLU must not overwrite the maps
        handle = module.register_forward_hook(lambda _m, _i, output: captured.append(output))
        try:
            with torch.enable_grad():
                scores = model(images)
                if len(captured) != 1 or not isinstance(captured[0], torch.Tensor):
                    raise ValueError("layer must run exactly once per forward pass, on a tensor")
                maps = captured[0]
                if maps.dim() != 4:
                    raise ValueError(
                        f"layer must output (N, K, h, w) maps, got shape {tuple(maps.shape)}"
                    )
                target = _check_target(target, scores)
                chosen = scores.gather(1, target[:, None]).sum()
                gradient = torch.autograd.grad(chosen, maps)[0]
        finally:
            handle.remove()
    alpha = gradient.mean(dim=(2, 3), keepdim=True)  # Eq. 1, (N, K, 1, 1)
    cam = (alpha * maps.detach()).sum(dim=1, keepdim=True)  # Eq. 2 before its ReLU
    if relu:
        cam = cam.clamp(min=0)
    return F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)


# ---------------------------------------------------------------------------
# Integrated gradients and SmoothGrad: many gradients, averaged.


def _nodes(steps: int, method: str, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Points ``alpha`` in [0, 1] and weights of the rule that approximates an integral over [0, 1]."""
    if method == "riemann_right":  # Sundararajan et al., Sec. 5: alpha = k / m, weight 1 / m
        alphas = torch.arange(1, steps + 1, dtype=torch.float64) / steps
        weights = torch.full((steps,), 1 / steps, dtype=torch.float64)
    else:  # Gauss-Legendre on [-1, 1], moved to [0, 1]
        points, legendre_weights = np.polynomial.legendre.leggauss(steps)
        alphas, weights = torch.from_numpy((points + 1) / 2), torch.from_numpy(legendre_weights / 2)
    return alphas.to(device), weights.to(device)


def integrated_gradients(
    model: nn.Module,
    images: torch.Tensor,
    *,
    target,
    baseline: float | torch.Tensor,
    steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int = 256,
) -> torch.Tensor:
    """Integrated gradients (Sundararajan et al. 2017): Eq. 1 and its Riemann sum.

    ``IG_i(x) = (x_i - x'_i) * integral over a in [0, 1] of dF(x' + a (x - x')) / dx_i``,
    for the image ``x``, the ``baseline`` ``x'`` (the input that stands for "no
    signal") and the class score ``F``. The integral is a weighted sum over
    ``steps`` points on the straight path from ``x'`` to ``x``:

    * ``"riemann_right"``: points ``a = k / steps`` for ``k = 1 .. steps``, each
      weight ``1 / steps``: the paper's Riemann sum (its Sec. 5);
    * ``"gausslegendre"``: Gauss-Legendre quadrature with ``steps`` nodes,
      Captum's default; exact for polynomials of degree ``2 steps - 1`` in ``a``.

    *Completeness* (Prop. 1): the map sums to ``F(x) - F(x')``, up to the
    error of the quadrature; checking that sum is how to choose ``steps``.

    Args:
        model, images, target: as for :func:`saliency`. ``target=None`` takes
            the class most probable for the image itself.
        baseline: a number (every pixel, e.g. ``0.0``, black) or a tensor that
            broadcasts to ``images`` (one baseline image, or one per image).
            There is no default: what counts as "absence" is the method's
            central choice.
        steps: points on the path.
        method: ``"gausslegendre"`` or ``"riemann_right"`` (see above).
        batch_size: path points (over all images) per forward pass (memory
            only; results do not depend on it beyond rounding).

    Returns:
        ``(N, C, H, W)`` float tensor on the model's device.

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> x = torch.rand(3, 1, 2, 2)
        >>> ig = cu.attribution.integrated_gradients(model, x, target=1, baseline=0.0)
        >>> torch.allclose(ig.flatten(1).sum(1), model(x)[:, 1] - model(0 * x)[:, 1], atol=1e-5)
        True
    """
    images = _prepared(model, images)
    baseline = _check_baseline(baseline, images)
    steps = _validate.integer(steps, "steps", min=1)
    method = _validate.one_of(method, "method", IG_METHODS)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    with model_left_as_found(model):
        target = _target_of(model, images, target)
        alphas, weights = _nodes(steps, method, images.device)
        difference = images - baseline
        # Every (image, point) pair is one row: image n's points are rows n * steps ...
        image_of = torch.arange(len(images), device=images.device).repeat_interleave(steps)
        alpha_of = alphas.repeat(len(images)).to(images.dtype)
        total = torch.zeros_like(images)
        for rows in torch.arange(len(image_of), device=images.device).split(batch_size):
            n, a = image_of[rows], alpha_of[rows][:, None, None, None]
            on_path = baseline.expand_as(images)[n] + a * difference[n]
            gradient = _input_gradient(model, on_path, target[n])
            w = weights[rows % steps].to(images.dtype)[:, None, None, None]
            total.index_add_(0, n, w * gradient)
    return difference * total


def _target_of(model: nn.Module, images: torch.Tensor, target) -> torch.Tensor:
    """``target`` checked against the model's classes (``None``: the intact images' argmax)."""
    with torch.no_grad():
        return _check_target(target, model(images))


def _check_baseline(baseline, images: torch.Tensor) -> torch.Tensor:
    """``baseline`` as a tensor on the images' device that broadcasts to ``images``."""
    if isinstance(baseline, torch.Tensor):
        _validate.tensor(baseline, "baseline", floating=True)
        try:
            torch.broadcast_shapes(baseline.shape, images.shape)
        except RuntimeError:
            raise ValueError(
                f"baseline must broadcast to the images' shape {tuple(images.shape)}, "
                f"got {tuple(baseline.shape)}"
            ) from None
        if torch.broadcast_shapes(baseline.shape, images.shape) != images.shape:
            raise ValueError(
                f"baseline must broadcast to the images' shape {tuple(images.shape)}, "
                f"got {tuple(baseline.shape)}"
            )
        return baseline.to(images.device, images.dtype)
    if baseline is None:
        raise TypeError("baseline must be a number or a tensor (e.g. 0.0 for black), got None")
    return torch.tensor(
        _validate.number(baseline, "baseline"), dtype=images.dtype, device=images.device
    )


def smoothgrad(
    model: nn.Module,
    images: torch.Tensor,
    *,
    target,
    noise: float = 0.15,
    samples: int = 50,
    generator: torch.Generator | None = None,
    batch_size: int = 256,
) -> torch.Tensor:
    """SmoothGrad (Smilkov et al. 2017): the gradient averaged over noisy copies.

    ``(1 / n) sum_{k=1..n} dF(x + e_k) / dx`` with ``e_k ~ N(0, sigma^2)`` drawn
    independently for every pixel of every copy. The paper sets sigma through
    the *noise level* ``sigma / (x_max - x_min)``, a fraction of the image's range,
    and found 10-20% to work well. Here ``noise`` is that
    fraction, applied to each image's own range: ``sigma_n = noise * (max - min)``
    of image ``n``.

    **The random draws** come from ``generator`` (a ``torch.Generator``; ``None``:
    a new one seeded with 0), never from PyTorch's global generator, so a call
    neither depends on nor disturbs other random code. All noise is drawn at
    once as ``torch.randn((N * samples, C, H, W), generator=generator)`` on the
    generator's device (image 0's copies first), then scaled and moved to the
    model's device: the same draw order as Captum's ``NoiseTunnel``. That noise
    takes the memory of ``N * samples`` images; for large images, call on fewer
    images at a time (with one generator, the draws then continue from call to call).

    Args:
        model, images, target: as for :func:`saliency`. ``target=None`` takes
            the class most probable for the image itself, not for each copy.
        noise: the noise level, a fraction ``> 0`` of each image's range (0.15: 15%).
        samples: noisy copies per image (the paper's ``n``; 50 in its figures).
        generator: the source of the noise.
        batch_size: copies per forward pass (memory only).

    Returns:
        ``(N, C, H, W)`` float tensor on the model's device: the signed mean
        gradient (the paper shows its absolute value).

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> x = torch.rand(2, 1, 2, 2)
        >>> smooth = cu.attribution.smoothgrad(model, x, target=0, samples=5)
        >>> torch.allclose(smooth, cu.attribution.saliency(model, x, target=0))  # linear: no change
        True
    """
    images = _prepared(model, images)
    noise = _validate.number(noise, "noise", positive=True)
    samples = _validate.integer(samples, "samples", min=1)
    generator = _validate.generator(generator)
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    flat = images.flatten(1)
    sigma = noise * (flat.max(dim=1).values - flat.min(dim=1).values)  # (N,)
    draws = torch.randn(
        (len(images) * samples, *images.shape[1:]), generator=generator, device=generator.device
    ).to(images.device, images.dtype)
    image_of = torch.arange(len(images), device=images.device).repeat_interleave(samples)
    with model_left_as_found(model):
        target = _target_of(model, images, target)
        total = torch.zeros_like(images)
        for rows in torch.arange(len(image_of), device=images.device).split(batch_size):
            n = image_of[rows]
            noisy = images[n] + sigma[n][:, None, None, None] * draws[rows]
            total.index_add_(0, n, _input_gradient(model, noisy, target[n]))
    return total / samples


# ---------------------------------------------------------------------------
# Faithfulness: deletion and insertion curves.


@dataclass(frozen=True)
class Curve:
    """A deletion or insertion curve for ``N`` images, ``K = steps + 1`` points each.

    Attributes:
        fraction: ``(K,)`` fraction of the pixels removed (deletion) or inserted
            (insertion) at each point, from 0 to 1.
        score: ``(N, K)`` the class's probability (or logit) at each point.
        area: ``(N,)`` area under the curve over ``fraction`` in [0, 1]
            (trapezoidal rule): low is good for deletion, high for insertion.
    """

    fraction: torch.Tensor
    score: torch.Tensor
    area: torch.Tensor

    def __post_init__(self):
        # A public constructor: its fields are checked once, here.
        _validate.tensor(self.fraction, "fraction", ndim=1, shape="(K,)")
        _validate.tensor(self.score, "score", ndim=2, shape="(N, K)")
        _validate.tensor(self.area, "area", ndim=1, shape="(N,)")
        n, k = self.score.shape
        if len(self.fraction) != k or len(self.area) != n or k == 0:
            raise ValueError(
                f"fraction, score and area must be (K,), (N, K) and (N,) with K >= 1, got "
                f"{tuple(self.fraction.shape)}, {tuple(self.score.shape)}, {tuple(self.area.shape)}"
            )


def deletion_curve(
    model: nn.Module,
    images: torch.Tensor,
    attribution: torch.Tensor,
    *,
    target,
    baseline: float | torch.Tensor,
    steps: int = 28,
    score: str = "probability",
    batch_size: int = 512,
) -> Curve:
    """The deletion metric (Petsiuk et al. 2018): remove pixels, most important first.

    Pixels (positions; all channels of a position together) are ranked by the
    ``attribution`` summed over its channels, largest first (ties: the earlier
    pixel in row-major order first). At point ``k`` of ``steps + 1``, the first
    ``round(k * H * W / steps)`` pixels of that order hold the ``baseline``
    instead of the image, and the model's score for ``target`` is recorded.
    "A sharp drop and thus a low area under the probability curve ... means a
    good explanation". The ranking uses the map's signed values; pass
    ``attribution.abs()`` to rank by magnitude.

    Args:
        model, images, target: as for :func:`saliency` (``None``: each image's
            most probable class, on the intact image).
        attribution: ``(N, C', H, W)`` maps, ``C'`` 1 or the images' ``C`` (e.g.
            any function of this module, or a random tensor for the control).
        baseline: what a removed pixel becomes: a number (``0.0``: black) or a
            tensor that broadcasts to ``images`` (e.g. a blurred copy).
        steps: points after the first (28: 28 pixels at a time on 28x28 images).
        score: ``"probability"`` (softmax, as the paper) or ``"logit"``.
        batch_size: perturbed copies per forward pass (memory only).

    Returns:
        A :class:`Curve`, on the model's device.

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1, bias=False))
        >>> with torch.no_grad():
        ...     _ = model[1].weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
        >>> x = torch.ones(1, 1, 2, 2)
        >>> curve = cu.attribution.deletion_curve(model, x, x * model[1].weight.view(1, 1, 2, 2),
        ...                                       target=0, baseline=0.0, steps=4, score="logit")
        >>> curve.score.tolist(), float(curve.area)  # remove 4, then 3, 2, 1
        ([[10.0, 6.0, 3.0, 1.0, 0.0]], 3.75)
    """
    return _curve(model, images, attribution, target, baseline, steps, score, batch_size, "delete")


def insertion_curve(
    model: nn.Module,
    images: torch.Tensor,
    attribution: torch.Tensor,
    *,
    target,
    baseline: float | torch.Tensor,
    steps: int = 28,
    score: str = "probability",
    batch_size: int = 512,
) -> Curve:
    """The insertion metric (Petsiuk et al. 2018): put pixels back, most important first.

    The mirror of :func:`deletion_curve`: point ``k`` is the ``baseline`` with
    the first ``round(k * H * W / steps)`` pixels of the attribution's order
    taken from the image. A faithful map makes the score rise fast: a high
    area. The paper starts insertion from a blurred copy of the image, so that
    the inserted pixels do not make sharp edges against a flat background; pass
    such a copy as ``baseline``.

    Arguments and result as for :func:`deletion_curve`.

    Example::

        >>> import torch, course_utils as cu
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1, bias=False))
        >>> with torch.no_grad():
        ...     _ = model[1].weight.copy_(torch.tensor([[1.0, 2.0, 3.0, 4.0]]))
        >>> x = torch.ones(1, 1, 2, 2)
        >>> curve = cu.attribution.insertion_curve(model, x, x * model[1].weight.view(1, 1, 2, 2),
        ...                                        target=0, baseline=0.0, steps=4, score="logit")
        >>> curve.score.tolist(), float(curve.area)  # add 4, then 3, 2, 1
        ([[0.0, 4.0, 7.0, 9.0, 10.0]], 6.25)
    """
    return _curve(model, images, attribution, target, baseline, steps, score, batch_size, "insert")


def _curve(model, images, attribution, target, baseline, steps, score, batch_size, mode) -> Curve:
    images = _prepared(model, images)
    n, channels, height, width = images.shape
    _validate.tensor(attribution, "attribution", ndim=4, shape="(N, C, H, W)", floating=True)
    if attribution.shape[0] != n or attribution.shape[-2:] != images.shape[-2:]:
        raise ValueError(
            f"attribution must be an (N, C, H, W) map with the images' N = {n}, H = {height} "
            f"and W = {width}, got shape {tuple(attribution.shape)}"
        )
    if attribution.shape[1] not in (1, channels):
        raise ValueError(
            f"attribution must have 1 or {channels} channels, got {attribution.shape[1]}"
        )
    baseline = _check_baseline(baseline, images).expand_as(images)
    steps = _validate.integer(steps, "steps", min=1)
    score = _validate.one_of(score, "score", ("probability", "logit"))
    batch_size = _validate.integer(batch_size, "batch_size", min=1)
    pixels = height * width
    # rank[n, p]: where pixel p comes in image n's order (0 = most important)
    order = (
        attribution.to(images.device)
        .sum(dim=1)
        .flatten(1)
        .argsort(dim=1, descending=True, stable=True)
    )
    rank = torch.empty_like(order).scatter_(
        1, order, torch.arange(pixels, device=images.device).expand(n, pixels)
    )
    counts = torch.round(torch.arange(steps + 1, device=images.device) * pixels / steps).long()
    rows = torch.arange(n * (steps + 1), device=images.device)  # (image, point) pairs
    scores = torch.empty(n * (steps + 1), device=images.device, dtype=images.dtype)
    with model_left_as_found(model), torch.no_grad():
        target = _target_of(model, images, target)
        for some in rows.split(batch_size):
            image, point = some // (steps + 1), some % (steps + 1)
            chosen = (rank[image] < counts[point][:, None]).view(-1, 1, height, width)
            if mode == "delete":
                copies = torch.where(chosen, baseline[image], images[image])
            else:
                copies = torch.where(chosen, images[image], baseline[image])
            output = model(copies)
            if score == "probability":
                output = output.softmax(dim=1)
            scores[some] = output.gather(1, target[image][:, None])[:, 0]
    scores = scores.view(n, steps + 1)
    fraction = counts.to(images.dtype) / pixels
    return Curve(fraction, scores, torch.trapezoid(scores, fraction, dim=1))
