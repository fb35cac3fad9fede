"""Hand-crafted features, as the 2010-2011 winners built them: gradients, histograms, encodings.

The pipeline of the pre-2012 ILSVRC winners, in four steps, each written out here
for grey images (``skimage.feature`` and ``sklearn.mixture`` are the
references the tests compare against):

1. **Local descriptors.** :func:`cell_histograms` bins each pixel's gradient
   orientation, weighted by its magnitude, into a histogram per cell of
   ``cell x cell`` pixels (Dalal & Triggs 2005, Sec. 6.3-6.4).
   :func:`dense_descriptors` groups ``block x block`` cells into one normalised
   descriptor at every block position: SIFT's layout (Lowe 2004, Sec. 6.1) on a
   dense grid, smaller to suit 28x28 images.
2. **HOG** (:func:`hog`) concatenates all the blocks in a fixed order, so it keeps
   *where* each gradient is; it equals ``skimage.feature.hog``.
3. **Encoding.** The bag of visual words (:func:`bag_of_words`; Csurka et al.
   2004) forgets the positions: it counts how many descriptors fall nearest to
   each word of a vocabulary (k-means centres). The Fisher vector
   (:func:`fisher_vector`; Perronnin et al. 2010) records more per word: how far,
   and in which direction, the descriptors near it lie from it.
4. A **linear classifier** (e.g. ``sklearn.svm.LinearSVC``) on the encoding.

Images are ``(N, H, W)`` or ``(N, 1, H, W)`` float tensors or arrays (e.g.
``ImageSet.tensors()[0]``, values in [0, 1]); results are float64 NumPy arrays,
the form scikit-learn takes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.collections import LineCollection

from . import _validate

__all__ = [
    "MEMORY_MB",
    "bag_of_words",
    "cell_histograms",
    "dense_descriptors",
    "fisher_vector",
    "gradients",
    "hog",
    "patches",
    "plot_hog",
]

#: The temporaries of :func:`bag_of_words` and :func:`fisher_vector` stay under this many
#: MiB: they encode as many images at a time as fit. Raise it with
#: ``course_utils.features.MEMORY_MB = ...`` for faster runs on a machine with memory to spare.
MEMORY_MB = 256


def _images_per_step(bytes_per_image: int, function: str) -> int:
    """How many images fit in :data:`MEMORY_MB`; refuses when one image alone does not."""
    budget = int(MEMORY_MB * 2**20)
    if bytes_per_image > budget:
        raise ValueError(
            f"descriptors: {function} needs {bytes_per_image / 2**20:.3g} MiB for one image, more "
            f"than course_utils.features.MEMORY_MB = {MEMORY_MB:g} MiB: use fewer descriptors "
            "per image or a smaller vocabulary/mixture, or raise the limit"
        )
    return budget // bytes_per_image


def _images(images) -> np.ndarray:
    images = torch.as_tensor(_validate.array(images, "images"))
    if images.dim() == 4 and images.shape[1] == 1:
        images = images[:, 0]
    _validate.tensor(images, "images", ndim=3, shape="(N, H, W) or (N, 1, H, W)", floating=True)
    return images.double().numpy()


def _array(value, name: str, ndim: int, shape: str) -> np.ndarray:
    value = torch.as_tensor(_validate.array(value, name))
    _validate.tensor(value, name, ndim=ndim, shape=shape, floating=True)
    return value.double().numpy()


def gradients(images: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient magnitude and unsigned orientation of every pixel.

    Centred differences ``[-1, 0, 1]`` along rows and columns, zero on the image
    border (Dalal & Triggs 2005, Sec. 6.2, found this simplest mask best).

    Returns:
        ``magnitude`` and ``orientation``, both ``(N, H, W)`` float64 arrays; the
        orientation is in degrees in [0, 180): "unsigned", a dark-to-light edge
        and a light-to-dark edge of the same direction count the same.
    """
    x = _images(images)
    g_row, g_col = np.zeros_like(x), np.zeros_like(x)
    g_row[:, 1:-1, :] = x[:, 2:, :] - x[:, :-2, :]
    g_col[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    return np.hypot(g_col, g_row), np.rad2deg(np.arctan2(g_row, g_col)) % 180


def cell_histograms(
    images: torch.Tensor | np.ndarray, cell: int = 4, orientations: int = 9
) -> np.ndarray:
    """Orientation histograms of the gradient, one per ``cell x cell`` block of pixels.

    Each pixel votes its gradient magnitude into the bin of its orientation
    (``orientations`` equal bins over 0-180 degrees); a cell's histogram is the mean
    of its pixels' votes. Rows and columns beyond the last whole cell are dropped.

    Returns:
        ``(N, H // cell, W // cell, orientations)`` float64 array.
    """
    cell = _validate.integer(cell, "cell", min=1)
    orientations = _validate.integer(orientations, "orientations", min=1)
    magnitude, orientation = gradients(images)
    n, height, width = magnitude.shape
    rows, cols = height // cell, width // cell
    if rows == 0 or cols == 0:
        raise ValueError(f"cell must be at most the image size {height}x{width}, got {cell}")
    magnitude = magnitude[:, : rows * cell, : cols * cell]
    orientation = orientation[:, : rows * cell, : cols * cell]
    width_deg = 180 / orientations
    # Bin b holds orientations in [b * width, (b + 1) * width).
    bins = sum((orientation >= b * width_deg).astype(np.int64) for b in range(1, orientations))
    # Number every (image, cell row, cell column, bin) and add up the magnitudes voting for it.
    image = np.arange(n)[:, None, None]
    cell_row = (np.arange(rows * cell) // cell)[None, :, None]
    cell_col = (np.arange(cols * cell) // cell)[None, None, :]
    index = ((image * rows + cell_row) * cols + cell_col) * orientations + bins
    votes = np.bincount(
        index.ravel(), weights=magnitude.ravel(), minlength=n * rows * cols * orientations
    )
    return votes.reshape(n, rows, cols, orientations) / cell**2


def dense_descriptors(
    images: torch.Tensor | np.ndarray, cell: int = 4, block: int = 2, orientations: int = 8
) -> np.ndarray:
    """A SIFT-like descriptor at every position of a dense grid: normalised blocks of cells.

    Each descriptor concatenates the :func:`cell_histograms` of ``block x block``
    neighbouring cells (SIFT: 4x4 cells of 8 orientations, 128 numbers; at 28x28
    pixels, 2x2 cells of 4x4 pixels), then normalises it as SIFT and HOG do
    ("L2-Hys", Lowe 2004, Sec. 6.1): divide by its length, clip every entry at
    0.2, divide by the new length. Neighbouring blocks overlap by all but one cell.

    Returns:
        ``(N, P, D)`` float64 array: ``P = (H // cell - block + 1) * (W // cell -
        block + 1)`` positions in row-major order, ``D = block * block *
        orientations`` numbers each.
    """
    block = _validate.integer(block, "block", min=1)
    histograms = cell_histograms(images, cell, orientations)
    n, rows, cols, bins = histograms.shape
    if block > min(rows, cols):
        raise ValueError(f"block must be at most {min(rows, cols)} cells, got {block}")
    windows = np.lib.stride_tricks.sliding_window_view(histograms, (block, block), axis=(1, 2))
    # (N, rows', cols', bins, block, block) -> one (block, block, bins) descriptor per position
    descriptors = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n, -1, block * block * bins)
    eps = 1e-5
    descriptors = descriptors / np.sqrt((descriptors**2).sum(-1, keepdims=True) + eps**2)
    descriptors = np.minimum(descriptors, 0.2)
    return descriptors / np.sqrt((descriptors**2).sum(-1, keepdims=True) + eps**2)


def patches(images: torch.Tensor | np.ndarray, cell: int = 4, block: int = 2) -> np.ndarray:
    """The pixels each of :func:`dense_descriptors` describes, in the same order.

    Returns:
        ``(N, P, block * cell, block * cell)`` float64 array: the square of
        ``block x block`` cells at each descriptor position, for showing what a
        descriptor, or a visual word, looks like.
    """
    x = _images(images)
    cell = _validate.integer(cell, "cell", min=1)
    block = _validate.integer(block, "block", min=1)
    side = block * cell
    if side > min(x.shape[1:]):
        raise ValueError(f"block * cell must be at most the image size, got {side}")
    rows, cols = x.shape[1] // cell - block + 1, x.shape[2] // cell - block + 1
    windows = np.lib.stride_tricks.sliding_window_view(x, (side, side), axis=(1, 2))
    return windows[:, : rows * cell : cell, : cols * cell : cell].reshape(len(x), -1, side, side)


def hog(
    images: torch.Tensor | np.ndarray, cell: int = 4, block: int = 2, orientations: int = 9
) -> np.ndarray:
    """Histogram of oriented gradients (Dalal & Triggs 2005): every block, in a fixed order.

    The :func:`dense_descriptors` of the image concatenated position by position, so
    that the feature keeps where each gradient was. Equals ``skimage.feature.hog(image,
    orientations, pixels_per_cell=(cell, cell), cells_per_block=(block, block))``.

    Returns:
        ``(N, P * D)`` float64 array (1,296 numbers for 28x28 images with the defaults).
    """
    descriptors = dense_descriptors(images, cell, block, orientations)
    return descriptors.reshape(len(descriptors), -1)


def bag_of_words(
    descriptors: torch.Tensor | np.ndarray, vocabulary: torch.Tensor | np.ndarray
) -> np.ndarray:
    """Bag of visual words (Csurka et al. 2004): the fraction of each image's descriptors per word.

    Each descriptor is assigned to its nearest word (Euclidean distance) and the
    assignments are counted; positions are forgotten.

    Args:
        descriptors: ``(N, P, D)`` local descriptors of ``N`` images.
        vocabulary: ``(K, D)`` words, e.g. the ``cluster_centers_`` of a k-means fit
            to training descriptors.

    Returns:
        ``(N, K)`` float64 array; each row sums to 1.
    """
    x = _array(descriptors, "descriptors", 3, "(N, P, D)")
    words = _array(vocabulary, "vocabulary", 2, "(K, D)")
    if words.shape[1] != x.shape[2]:
        raise ValueError(
            f"vocabulary must have D = {x.shape[2]} columns like descriptors, got {words.shape[1]}"
        )
    counts = np.zeros((len(x), len(words)))
    # Per image: two (P, K) float64 distances and one (P, K) bool of assignments.
    step = _images_per_step(x.shape[1] * len(words) * 17, "bag_of_words")
    for start in range(0, len(x), step):  # as many images as MEMORY_MB allows
        chunk = x[start : start + step]
        # |x - w|^2 = |x|^2 - 2 x.w + |w|^2; |x|^2 is the same for every word, so skip it.
        nearest = np.argmin((words**2).sum(1) - 2 * chunk @ words.T, axis=-1)
        counts[start : start + step] = (nearest[..., None] == np.arange(len(words))).sum(axis=1)
    return counts / x.shape[1]


def fisher_vector(
    descriptors: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray,
    means: torch.Tensor | np.ndarray,
    variances: torch.Tensor | np.ndarray,
) -> np.ndarray:
    r"""Improved Fisher vector of each image under a diagonal Gaussian mixture.

    The gradient of the mixture's log-likelihood with respect to its means and
    standard deviations, scaled as in Perronnin, Sánchez & Mensink (2010) and
    Sánchez et al. (2013), with the "improved" power and L2 normalisation of the
    former. With posteriors
    :math:`\gamma_t(k)` of descriptor :math:`x_t` (one of :math:`T`) for
    Gaussian :math:`k`:

    .. math::
        \mathcal{G}_{\mu,k} = \frac{1}{T\sqrt{w_k}} \sum_t \gamma_t(k)\,
        \frac{x_t - \mu_k}{\sigma_k}, \qquad
        \mathcal{G}_{\sigma,k} = \frac{1}{T\sqrt{2 w_k}} \sum_t \gamma_t(k)
        \Big[\frac{(x_t - \mu_k)^2}{\sigma_k^2} - 1\Big]

    (element-wise in the :math:`D` dimensions). The vector is all
    :math:`\mathcal{G}_{\mu,k}` then all :math:`\mathcal{G}_{\sigma,k}`, then
    :math:`z \mapsto \mathrm{sign}(z)\sqrt{|z|}` and division by its L2 norm.

    Args:
        descriptors: ``(N, T, D)`` local descriptors of ``N`` images.
        weights, means, variances: ``(K,)``, ``(K, D)``, ``(K, D)`` of the mixture,
            e.g. ``weights_``, ``means_``, ``covariances_`` of
            ``sklearn.mixture.GaussianMixture(covariance_type="diag")``.

    Returns:
        ``(N, 2 K D)`` float64 array of unit length.
    """
    x = _array(descriptors, "descriptors", 3, "(N, T, D)")
    w = _array(weights, "weights", 1, "(K,)")
    mu = _array(means, "means", 2, "(K, D)")
    var = _array(variances, "variances", 2, "(K, D)")
    if mu.shape != var.shape or mu.shape != (len(w), x.shape[2]):
        raise ValueError(
            f"means and variances must both be (K, D) = ({len(w)}, {x.shape[2]}), "
            f"got {mu.shape} and {var.shape}"
        )
    if (w <= 0).any() or (var <= 0).any():
        raise ValueError("weights and variances must be positive")
    sigma = np.sqrt(var)
    parts = []
    # Per image: about four (T, K, D) float64 temporaries (z, z**2, its sum's terms, z**2 - 1).
    step = _images_per_step(x.shape[1] * mu.size * 8 * 4, "fisher_vector")
    for start in range(0, len(x), step):  # as many images as MEMORY_MB allows
        z = (x[start : start + step, :, None, :] - mu) / sigma  # (n, T, K, D)
        # log w_k N(x_t; mu_k, sigma_k^2), then posteriors by a stable softmax over k
        log_p = np.log(w) - 0.5 * (z**2 + np.log(2 * np.pi * var)).sum(-1)
        gamma = np.exp(log_p - log_p.max(-1, keepdims=True))
        gamma /= gamma.sum(-1, keepdims=True)  # (n, T, K)
        t = x.shape[1]
        g_mu = np.einsum("ntk,ntkd->nkd", gamma, z) / (t * np.sqrt(w)[:, None])
        g_sigma = np.einsum("ntk,ntkd->nkd", gamma, z**2 - 1) / (t * np.sqrt(2 * w)[:, None])
        parts.append(np.concatenate([g_mu.reshape(len(z), -1), g_sigma.reshape(len(z), -1)], 1))
    fv = np.concatenate(parts)
    fv = np.sign(fv) * np.sqrt(np.abs(fv))
    return fv / np.maximum(np.linalg.norm(fv, axis=1, keepdims=True), 1e-12)


def plot_hog(
    image: torch.Tensor | np.ndarray,
    *,
    cell: int = 4,
    orientations: int = 9,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Draw an image's cell histograms: in each cell, one line per orientation bin.

    Each line runs along the edge direction of its bin (perpendicular to the
    gradient), through the cell's centre; its opacity is the bin's value over the
    largest bin of the image. Axes in pixels, as in ``imshow`` of the image.

    Args:
        image: one ``(H, W)`` (or ``(1, H, W)``) float image.
        cell, orientations: as in :func:`cell_histograms`.
        ax: where to draw (the current axes if ``None``).

    Returns:
        The axes.
    """
    image = torch.as_tensor(_validate.array(image, "image"))
    if image.dim() == 3 and image.shape[0] == 1:
        image = image[0]
    _validate.tensor(image, "image", ndim=2, shape="(H, W) or (1, H, W)", floating=True)
    if ax is not None:
        _validate.instance(ax, "ax", plt.Axes, "a matplotlib Axes or None")
    histograms = cell_histograms(image[None], cell, orientations)[0]
    ax = plt.gca() if ax is None else ax
    height, width = histograms.shape[0] * cell, histograms.shape[1] * cell
    ax.imshow(np.zeros((height, width)), cmap="gray", vmin=0, vmax=1)
    angles = np.pi * (np.arange(orientations) + 0.5) / orientations  # bin centres
    # gradient direction (row, col) = (sin a, cos a); the edge runs along (cos a, -sin a)
    d_row, d_col = 0.45 * cell * np.cos(angles), -0.45 * cell * np.sin(angles)
    segments, alphas = [], []
    for (row, col, b), value in np.ndenumerate(histograms):
        y, x = row * cell + (cell - 1) / 2, col * cell + (cell - 1) / 2
        segments.append([(x - d_col[b], y - d_row[b]), (x + d_col[b], y + d_row[b])])
        alphas.append(value)
    colours = np.ones((len(alphas), 4))
    colours[:, 3] = np.asarray(alphas) / max(max(alphas), 1e-12)
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=1.5))
    ax.grid(False)
    return ax
