"""How ILSVRC scored its entries: top-k accuracy, box overlap, localization and detection.

Every function accepts NumPy arrays and PyTorch tensors alike (tensors are
moved to the CPU and read as NumPy arrays) and returns plain Python floats or
NumPy arrays. Accuracies, errors and average precisions are fractions in
``[0, 1]``; the challenge reported them in percent.

Sources: the ILSVRC paper, Russakovsky et al. (2015), Sec. 4 (classification,
localization and detection rules); the PASCAL VOC paper, Everingham et al.
(2010), Sec. 4.2 and the VOC devkit ``VOCevaldet.m`` / ``VOCap.m`` (average
precision).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["topk_accuracy"]


def _as_numpy(x, name: str) -> np.ndarray:
    """``x`` (array, tensor or nested sequence) as a NumPy array."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array or a tensor, got {type(x).__name__}") from error


def _check_finite(x: np.ndarray, name: str) -> None:
    if not np.issubdtype(x.dtype, np.number) or np.issubdtype(x.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {x.dtype}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ValueError(f"{name} must be finite (no NaN or inf)")


def _check_labels(labels: np.ndarray, name: str, num_classes: int | None = None) -> np.ndarray:
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class indices, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must be non-negative class indices, got {labels.min()}")
    if num_classes is not None and labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"{name} must be class indices below the number of classes ({num_classes}), "
            f"got {labels.max()}"
        )
    return labels.astype(np.int64)


def topk_accuracy(scores, labels, k: int = 1) -> float:
    """Fraction of images whose true class is among the ``k`` highest-scored classes.

    ILSVRC's classification measure (Russakovsky et al. 2015, Sec. 4.1): an
    entry names 5 classes per image, and an image counts as an error when
    none of them is the true class. Top-k error is ``1 - topk_accuracy``.

    Ties are broken deterministically, in favour of the **lower class index**
    (as a stable sort by descending score would). So the true class ``y`` is in
    the top k exactly when fewer than ``k`` classes beat it, where class ``c``
    beats ``y`` if ``scores[c] > scores[y]``, or if the scores are equal and
    ``c < y``. With all-equal scores, top-k accuracy is the fraction of labels
    below ``k``. No sort is needed: the count is one vectorised comparison.

    Args:
        scores: ``(N, C)`` real scores (logits, probabilities, any monotone
            transform: only their order matters), one row per image.
        labels: ``(N,)`` integer true classes in ``[0, C)``.
        k: how many guesses count, ``1 <= k <= C`` (ILSVRC: 5).

    Returns:
        The top-k accuracy, a float in ``[0, 1]``.
    """
    scores = _as_numpy(scores, "scores")
    labels = _as_numpy(labels, "labels")
    if scores.ndim != 2:
        raise ValueError(f"scores must be a 2-D (N, C) array, got shape {scores.shape}")
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D (N,) array, got shape {labels.shape}")
    if len(labels) != len(scores):
        raise ValueError(
            f"labels must have one entry per row of scores ({len(scores)}), got {len(labels)}"
        )
    num_images, num_classes = scores.shape
    if num_images == 0 or num_classes == 0:
        raise ValueError(f"scores must have at least one image and one class, got {scores.shape}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= num_classes:
        raise ValueError(f"k must be between 1 and the number of classes ({num_classes}), got {k}")
    _check_finite(scores, "scores")
    labels = _check_labels(labels, "labels", num_classes)

    true_score = scores[np.arange(num_images), labels][:, None]
    higher = (scores > true_score).sum(axis=1)
    tied_before = ((scores == true_score) & (np.arange(num_classes) < labels[:, None])).sum(axis=1)
    return float(np.mean(higher + tied_before < k))
