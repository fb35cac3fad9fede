"""AlexNet's data augmentation (Krizhevsky, Sutskever & Hinton 2012, Sec. 4.1).

Two label-preserving transformations, both cheap enough to compute on the fly:

1. **Translations and horizontal reflections.** The paper resizes every image
   to 256 x 256 and trains on random 224 x 224 patches, each flipped left-right
   with probability 1/2 (:func:`random_crop_flip`). At test time it averages
   the predictions on ten patches: the four corners and the centre, and their
   reflections (:func:`ten_crop`). The course's images are small (28 x 28), so
   :func:`paper_crop_size` scales the crop by the same ratio, 224/256.
2. **PCA colour augmentation** ("fancy PCA"). A PCA of the RGB values of all
   training pixels gives the eigenvectors ``p_i`` and eigenvalues ``lambda_i``
   of their 3 x 3 covariance matrix (:func:`rgb_pca`). To every pixel of an
   image one adds the same colour ``[p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T``, with
   ``a_i ~ N(0, 0.1^2)`` (standard deviation 0.1) drawn once per image (:func:`pca_color_shift`,
   :func:`pca_color_augment`).

Images are float tensors ``(N, C, H, W)`` (a single image ``(C, H, W)`` also
works), as a CNN takes them.
"""

from __future__ import annotations

import torch

from . import _validate

__all__ = [
    "paper_crop_size",
    "pca_color_augment",
    "pca_color_shift",
    "random_crop_flip",
    "rgb_pca",
    "ten_crop",
]

#: The paper's crop: 224 x 224 patches out of 256 x 256 images (Sec. 4.1).
PAPER_CROP, PAPER_IMAGE = 224, 256


def _check_images(images: torch.Tensor, channels: int | None = None, *, finite: bool = False):
    shape = "(N, C, H, W) or (C, H, W)"
    _validate.tensor(images, "images", ndim=(3, 4), shape=shape, floating=True, finite=finite)
    if images.shape[-1] in (1, 3) and images.shape[-3] not in (1, 3):
        raise ValueError(
            f"images must be channels-first {shape}, got shape {tuple(images.shape)}, which "
            "looks channels-last: use images.permute(0, 3, 1, 2) (or (2, 0, 1) for one image)"
        )
    if channels is not None and images.shape[-3] != channels:
        raise ValueError(f"images must have {channels} channels, got shape {tuple(images.shape)}")


def _check_size(size: int, images: torch.Tensor) -> int:
    return _validate.integer(size, "size", min=1, max=min(images.shape[-2:]))


def paper_crop_size(image_size: int) -> int:
    """The crop size that keeps the paper's ratio 224/256 for ``image_size``-pixel images.

    Rounded down: ``paper_crop_size(256) == 224``, ``paper_crop_size(28) == 24``.
    """
    image_size = _validate.integer(image_size, "image_size", min=2)
    return image_size * PAPER_CROP // PAPER_IMAGE


def random_crop_flip(
    images: torch.Tensor,
    size: int,
    *,
    flip: bool = True,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A random ``size x size`` patch of each image, flipped left-right with probability 1/2.

    The first augmentation of Sec. 4.1: every image gets its own offset, drawn
    uniformly from the ``(H - size + 1) x (W - size + 1)`` possible ones, and
    its own coin for the flip.

    Args:
        images: ``(N, C, H, W)`` or ``(C, H, W)`` float tensor.
        size: side of the patch in pixels, at most ``min(H, W)``.
        flip: also flip each patch horizontally with probability 1/2.
        generator: a seeded ``torch.Generator``, for the same patches every run.

    Returns:
        ``(N, C, size, size)`` (or ``(C, size, size)``) tensor, same dtype.
    """
    _check_images(images)
    size = _check_size(size, images)
    flip = _validate.flag(flip, "flip")
    _validate.generator(generator)
    height, width = images.shape[-2:]
    single = images.ndim == 3
    batch = images.unsqueeze(0) if single else images
    n = len(batch)
    tops = torch.randint(0, height - size + 1, (n,), generator=generator)
    lefts = torch.randint(0, width - size + 1, (n,), generator=generator)
    flips = torch.rand(n, generator=generator) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    patches = []
    for image, top, left, flipped in zip(batch, tops, lefts, flips, strict=True):
        patch = image[:, top : top + size, left : left + size]
        patches.append(patch.flip(-1) if flipped else patch)
    out = torch.stack(patches)
    return out[0] if single else out


def ten_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The paper's ten test patches: four corners and centre, then their reflections.

    Sec. 4.1: "at test time, the network makes a prediction by extracting five
    224 x 224 patches (the four corner patches and the center patch) as well as
    their horizontal reflections (hence ten patches in all), and averaging the
    predictions". The order is that of ``torchvision.transforms.functional.ten_crop``:
    top-left, top-right, bottom-left, bottom-right, centre of the image, then the
    same five of its mirror image (so patch 5 is patch 1 of the image, mirrored).

    Args:
        images: ``(N, C, H, W)`` or ``(C, H, W)`` float tensor.
        size: side of the patches in pixels, at most ``min(H, W)``.

    Returns:
        ``(10, N, C, size, size)`` (or ``(10, C, size, size)``) tensor.
    """
    _check_images(images)
    size = _check_size(size, images)
    height, width = images.shape[-2:]
    top_c = int(round((height - size) / 2.0))
    left_c = int(round((width - size) / 2.0))
    corners = [(0, 0), (0, width - size), (height - size, 0), (height - size, width - size)]
    offsets = corners + [(top_c, left_c)]
    mirrored = images.flip(-1)
    return torch.stack(
        [x[..., t : t + size, s : s + size] for x in (images, mirrored) for t, s in offsets]
    )


def rgb_pca(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors of the 3 x 3 covariance of the RGB values of all pixels.

    The PCA of Sec. 4.1 ("we perform PCA on the set of RGB pixel values
    throughout the ImageNet training set"). Every pixel of every image is one
    sample ``[R, G, B]``; the covariance is ``X^T X / (M - 1)`` of the ``M``
    centred samples, computed in float64.

    Args:
        images: ``(N, 3, H, W)`` or ``(3, H, W)`` float tensor, RGB, in any units
            (the eigenvalues come out in those units squared).

    Returns:
        ``eigenvalues``: ``(3,)`` float64, largest first (variances along ``p_i``).
        ``eigenvectors``: ``(3, 3)`` float64 whose **columns** are ``p_1, p_2, p_3``
        (unit length; the sign of each is arbitrary, as in any PCA).
    """
    _check_images(images, channels=3, finite=True)
    pixels = images.detach().to(torch.float64).movedim(-3, -1).reshape(-1, 3)
    if len(pixels) < 2:
        raise ValueError("images must hold at least two pixels")
    centred = pixels - pixels.mean(dim=0)
    covariance = centred.T @ centred / (len(pixels) - 1)
    eigenvalues, eigenvectors = torch.linalg.eigh(covariance)  # ascending order
    return eigenvalues.flip(0), eigenvectors.flip(1)


def _check_pca(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor) -> None:
    _validate.tensor(eigenvalues, "eigenvalues", ndim=1, shape="(3,)", floating=True, finite=True)
    _validate.tensor(
        eigenvectors, "eigenvectors", ndim=2, shape="(3, 3)", floating=True, finite=True
    )
    if eigenvalues.shape != (3,):
        raise ValueError(f"eigenvalues must be a (3,) tensor, got {tuple(eigenvalues.shape)}")
    if eigenvectors.shape != (3, 3):
        raise ValueError(f"eigenvectors must be a (3, 3) tensor, got {tuple(eigenvectors.shape)}")


def _check_alphas(alphas: torch.Tensor, shapes: tuple[tuple[int, ...], ...]) -> None:
    _validate.tensor(alphas, "alphas", shape=" or ".join(map(str, shapes)), finite=True)
    if tuple(alphas.shape) not in shapes:
        raise ValueError(
            f"alphas must be a {' or '.join(map(str, shapes))} tensor (one row per image), "
            f"got shape {tuple(alphas.shape)}"
        )


def pca_color_shift(
    eigenvalues: torch.Tensor, eigenvectors: torch.Tensor, alphas: torch.Tensor
) -> torch.Tensor:
    """The colour added to every pixel: ``[p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T`` (Sec. 4.1).

    Args:
        eigenvalues: ``(3,)`` tensor ``[l1, l2, l3]``.
        eigenvectors: ``(3, 3)`` tensor with columns ``p1, p2, p3``.
        alphas: ``(3,)`` or ``(N, 3)`` tensor of the random multipliers ``a_i``.

    Returns:
        ``(3,)`` or ``(N, 3)`` tensor: one RGB shift per image, in the units of
        ``eigenvalues`` (for the paper's formula, pixel units squared: see the chapter).
    """
    _check_pca(eigenvalues, eigenvectors)
    _validate.tensor(alphas, "alphas", ndim=(1, 2), shape="(3,) or (N, 3)", finite=True)
    if alphas.shape[-1] != 3:
        raise ValueError(f"alphas must be a (3,) or (N, 3) tensor, got {tuple(alphas.shape)}")
    _validate.same_device(eigenvalues, "eigenvalues", alphas, "alphas")
    _validate.same_device(eigenvectors, "eigenvectors", alphas, "alphas")
    return _shift(eigenvalues, eigenvectors, alphas)


def _shift(eigenvalues: torch.Tensor, eigenvectors: torch.Tensor, alphas: torch.Tensor):
    """:func:`pca_color_shift` without its checks, for callers that made the checks."""
    dtype = torch.promote_types(alphas.dtype, eigenvalues.dtype)
    weights = alphas.to(dtype) * eigenvalues.to(dtype)  # (..., 3): a_i * l_i
    return weights @ eigenvectors.to(dtype).T  # sum_i (a_i l_i) p_i


def pca_color_augment(
    images: torch.Tensor,
    eigenvalues: torch.Tensor,
    eigenvectors: torch.Tensor,
    *,
    std: float = 0.1,
    alphas: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Add the PCA colour shift of Sec. 4.1 to every pixel, one random shift per image.

    Each image gets its own ``a_i ~ N(0, std)``, i = 1, 2, 3 (the paper: standard
    deviation 0.1, "drawn only once for all the pixels of a particular training
    image"), and the same shift :func:`pca_color_shift` is added to all its
    pixels. Nothing is clipped: the paper trains on mean-subtracted raw values.

    Args:
        images: ``(N, 3, H, W)`` or ``(3, H, W)`` float RGB tensor.
        eigenvalues, eigenvectors: from :func:`rgb_pca` (of the training set),
            in the same units as ``images``.
        std: standard deviation of the ``a_i``.
        alphas: ``(N, 3)`` (or ``(3,)``) multipliers to use instead of random ones.
        generator: a seeded ``torch.Generator``, for the same draws every run.

    Returns:
        Tensor of the shape, dtype and device of ``images`` (the random ``a_i``
        are drawn on the CPU, so a seeded ``generator`` gives the same shifts on
        any device).
    """
    _check_images(images, channels=3)
    _check_pca(eigenvalues, eigenvectors)
    std = _validate.number(std, "std", min=0)
    _validate.generator(generator)
    single = images.ndim == 3
    n = 1 if single else len(images)
    if alphas is None:
        alphas = std * torch.randn(n, 3, generator=generator, dtype=torch.float64)
    else:
        _check_alphas(alphas, ((n, 3), (3,)) if single else ((n, 3),))
    device = images.device  # the 3 + 9 PCA numbers and the alphas go where the images are
    alphas = alphas.to(device).reshape(n, 3)
    shift = _shift(eigenvalues.to(device), eigenvectors.to(device), alphas).to(images.dtype)
    shift = shift[:, :, None, None]  # (N, 3, 1, 1): the same colour at every pixel
    return images + (shift[0] if single else shift)
