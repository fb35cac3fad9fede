"""How ILSVRC scored its entries: top-k accuracy, box overlap, localisation and detection.

Every function accepts NumPy arrays and PyTorch tensors alike (tensors are
moved to the CPU and read as NumPy arrays) and returns plain Python floats or
NumPy arrays. Accuracies, errors and average precisions are fractions in
``[0, 1]``; the challenge reported them in percent.

Sources: the ILSVRC paper, Russakovsky et al. (2015), Sec. 4 (classification,
localisation and detection rules); the PASCAL VOC paper, Everingham et al.
(2010), Sec. 4.2 and the VOC devkit ``VOCevaldet.m`` / ``VOCap.m`` (average
precision).
"""

from __future__ import annotations

import numpy as np
import sklearn.metrics
import torch

from . import _validate

__all__ = [
    "average_precision",
    "box_iou",
    "confusion_matrix",
    "ilsvrc_iou_threshold",
    "localization_error",
    "match_detections",
    "mean_average_precision",
    "precision_envelope",
    "precision_recall_curve",
    "topk_accuracy",
]

INTERPOLATIONS = ("voc07", "all")
#: The largest confusion matrix built (classes per side): 10,000 x 10,000 int64 counts are 0.8 GB.
MAX_CLASSES = 10_000
#: ``box_iou`` refuses results larger than this many IoUs (float64: 0.8 GB), and
#: computes at most this many IoUs at once (intermediate arrays stay small).
MAX_IOUS, IOU_CHUNK = 100_000_000, 1_000_000


def _check_labels(
    labels, name: str, num_classes: int | None = None, *, what="class indices", ndim=None
):
    """``labels`` as an int64 array of non-negative ``what`` (below ``num_classes``)."""
    labels = _validate.array(labels, name, integer=True, ndim=ndim, shape="1-D" if ndim else "")
    if labels.size and labels.min() < 0:
        raise ValueError(f"{name} must be non-negative {what}, got {labels.min()}")
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
    scores = _validate.array(scores, "scores", ndim=2, shape="2-D (N, C)")
    labels = _validate.array(labels, "labels", ndim=1, shape="1-D (N,)", integer=True)
    if len(labels) != len(scores):
        raise ValueError(
            f"labels must have one entry per row of scores ({len(scores)}), got {len(labels)}"
        )
    num_images, num_classes = scores.shape
    if num_images == 0 or num_classes == 0:
        raise ValueError(f"scores must have at least one image and one class, got {scores.shape}")
    k = _validate.integer(k, "k", min=1)
    if k > num_classes:
        raise ValueError(f"k must be between 1 and the number of classes ({num_classes}), got {k}")
    labels = _check_labels(labels, "labels", num_classes)

    true_score = scores[np.arange(num_images), labels][:, None]
    rank = np.count_nonzero(
        scores > true_score, axis=1
    )  # classes that beat the true class outright
    tied = np.flatnonzero(
        np.count_nonzero(scores == true_score, axis=1) > 1
    )  # rows with ties (rare)
    if tied.size:
        before = (scores[tied] == true_score[tied]) & (np.arange(num_classes) < labels[tied, None])
        rank[tied] += before.sum(axis=1)
    return float(np.mean(rank < k))


def confusion_matrix(labels, pred_labels, num_classes: int | None = None) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Args:
        labels: ``(N,)`` integer true classes.
        pred_labels: ``(N,)`` integer predicted classes (e.g. ``scores.argmax(1)``).
        num_classes: ``C``; by default one more than the largest class seen.
            At most ``MAX_CLASSES`` = 10,000 (the matrix has ``C x C`` entries).

    Returns:
        ``(C, C)`` int64 array: entry ``[i, j]`` is the number of images of class
        ``i`` predicted as class ``j`` (rows true, columns predicted). The diagonal
        holds the correct predictions. Computed by scikit-learn's
        ``sklearn.metrics.confusion_matrix``, which has the same convention; what
        this function adds is the course's argument checks and ``num_classes``.

    Example:
        >>> confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1]).tolist()
        [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    """
    labels = _check_labels(labels, "labels", ndim=1)
    pred_labels = _check_1d(
        _check_labels(pred_labels, "pred_labels", ndim=1), "pred_labels", len(labels), per="label"
    )
    if len(labels) == 0:
        raise ValueError("labels must not be empty")
    largest = int(max(labels.max(), pred_labels.max()))
    if num_classes is None:
        if largest >= MAX_CLASSES:
            raise ValueError(
                f"labels and pred_labels must be class indices below {MAX_CLASSES:,} (a C x C "
                f"matrix), got class {largest:,}; renumber the classes 0..C-1 first, e.g. "
                "with np.unique(..., return_inverse=True)"
            )
        num_classes = largest + 1
    num_classes = _validate.integer(num_classes, "num_classes", min=1, max=MAX_CLASSES)
    if largest >= num_classes:
        name = "labels" if labels.max() >= num_classes else "pred_labels"
        raise ValueError(
            f"{name} must be class indices below the number of classes ({num_classes}), "
            f"got {largest}"
        )
    return sklearn.metrics.confusion_matrix(labels, pred_labels, labels=np.arange(num_classes))


# ----------------------------------------------------------------------------- boxes


def _check_boxes(boxes, name: str) -> np.ndarray:
    """``boxes`` as a float64 ``(N, 4)`` array of valid (x1, y1, x2, y2) boxes."""
    return _ordered_boxes(_validate.array(boxes, name, ndim=2, shape="(N, 4)"), name)


def _ordered_boxes(boxes: np.ndarray, name: str) -> np.ndarray:
    """The (N, 4) shape and x2 >= x1, y2 >= y1 of an array already checked for numbers."""
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must be an (N, 4) array of (x1, y1, x2, y2), got {boxes.shape}")
    boxes = boxes.astype(np.float64)
    bad = np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]))
    if bad.size:
        raise ValueError(
            f"{name} must have x2 >= x1 and y2 >= y1, but box {bad[0]} is {boxes[bad[0]].tolist()}"
        )
    return boxes


def _iou(a: np.ndarray, b: np.ndarray, inclusive: bool) -> np.ndarray:
    """IoU of boxes ``a[..., :]`` and ``b[..., :]``, broadcast over the leading axes."""
    extra = 1.0 if inclusive else 0.0
    inter_w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + extra
    inter_h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + extra
    inter = np.clip(inter_w, 0, None) * np.clip(inter_h, 0, None)
    area_a = (a[..., 2] - a[..., 0] + extra) * (a[..., 3] - a[..., 1] + extra)
    area_b = (b[..., 2] - b[..., 0] + extra) * (b[..., 3] - b[..., 1] + extra)
    union = area_a + area_b - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def box_iou(boxes_a, boxes_b, *, inclusive: bool = False) -> np.ndarray:
    """Intersection over union of every box in ``boxes_a`` with every box in ``boxes_b``.

    ``IoU(A, B) = area(A ∩ B) / area(A ∪ B)``, the overlap measure of PASCAL VOC
    (Everingham et al. 2010, Sec. 4.2, eq. 3) and ILSVRC (Russakovsky et al.
    2015, Sec. 4.2).

    Pixel convention. By default (``inclusive=False``) a box ``(x1, y1, x2, y2)``
    is the continuous rectangle ``[x1, x2] x [y1, y2]`` in pixel units, of width
    ``x2 - x1``, as in torchvision: the box ``(0, 0, 10, 10)`` covers the 10 x 10
    pixels 0..9. The VOC and ILSVRC devkits instead store *inclusive pixel
    indices*: ``(0, 0, 9, 9)`` is the same 10 x 10 pixels and its width is
    ``x2 - x1 + 1``; pass ``inclusive=True`` to compute IoU as they do (every
    width and height, of the intersection too, gets ``+ 1``). The two agree on
    the same pixels described each way; they differ when one set of numbers
    is read both ways, most for small boxes.

    Args:
        boxes_a: ``(N, 4)`` boxes ``(x1, y1, x2, y2)``, pixels, ``x2 >= x1``, ``y2 >= y1``.
        boxes_b: ``(M, 4)`` boxes, the same way.
        inclusive: read the coordinates as inclusive pixel indices (devkit ``+ 1``).

    Returns:
        ``(N, M)`` float64 array of IoUs in ``[0, 1]``. Two boxes whose union has
        zero area (degenerate boxes, ``inclusive=False``) have IoU 0. At most
        ``MAX_IOUS`` = 10^8 IoUs (0.8 GB); for more, call it on slices of ``boxes_a``.
    """
    a = _check_boxes(boxes_a, "boxes_a")
    b = _check_boxes(boxes_b, "boxes_b")
    inclusive = _validate.flag(inclusive, "inclusive")
    if len(a) * len(b) > MAX_IOUS:
        raise ValueError(
            f"boxes_a and boxes_b give {len(a):,} x {len(b):,} IoUs "
            f"({len(a) * len(b) * 8 / 1e9:.1f} GB), more than {MAX_IOUS:,}: call box_iou on "
            "slices of boxes_a, e.g. for part in np.array_split(boxes_a, 10)"
        )
    # In steps of IOU_CHUNK IoUs: the seven temporaries of _iou stay small. Measured for
    # 4,000 x 4,000 boxes (122 MiB of IoUs): peak 161 MiB and 2.2 s in steps, 748 MiB and
    # 5.2 s at once (torchvision.ops.box_iou, also at once: 3.5 s; a shared 2-core machine).
    out = np.empty((len(a), len(b)))
    rows = max(1, IOU_CHUNK // max(len(b), 1))
    for start in range(0, len(a), rows):
        out[start : start + rows] = _iou(a[start : start + rows, None], b[None], inclusive)
    return out


def ilsvrc_iou_threshold(gt_boxes, *, inclusive: bool = False) -> np.ndarray:
    """ILSVRC's detection IoU threshold for each ground-truth box.

    ``thr = min(0.5, w h / ((w + 10) (h + 10)))`` for a ``w x h`` box
    (Russakovsky et al. 2015, Sec. 4.3): a detection may be off by about 5
    pixels on each side of a small object and still count. The threshold is
    0.5 for boxes larger than about 25 x 25 pixels (for a square box,
    ``w^2 / (w + 10)^2 >= 0.5`` from ``w >= 24.14``).

    Args:
        gt_boxes: ``(G, 4)`` ground-truth boxes ``(x1, y1, x2, y2)``, pixels.
        inclusive: widths as ``x2 - x1 + 1`` (the devkit's inclusive pixels).

    Returns:
        ``(G,)`` float64 thresholds in ``[0, 0.5]``.
    """
    boxes = _check_boxes(gt_boxes, "gt_boxes")
    extra = 1.0 if _validate.flag(inclusive, "inclusive") else 0.0
    w = boxes[:, 2] - boxes[:, 0] + extra
    h = boxes[:, 3] - boxes[:, 1] + extra
    return np.minimum(0.5, w * h / ((w + 10) * (h + 10)))


# ----------------------------------------------------------------------------- localization


def _per_image(items, name: str, num_images: int) -> list:
    if isinstance(items, np.ndarray | torch.Tensor):
        items = list(items)
    if not isinstance(items, list | tuple):
        raise TypeError(
            f"{name} must be an array or a list with one entry per image, got {type(items).__name__}"
        )
    if len(items) != num_images:
        raise ValueError(f"{name} must have one entry per image ({num_images}), got {len(items)}")
    return items


def localization_error(
    pred_labels,
    pred_boxes,
    gt_labels,
    gt_boxes,
    iou_threshold: float = 0.5,
    *,
    inclusive: bool = False,
) -> float:
    """ILSVRC's classification-with-localisation error: fraction of images missed.

    Each image gets up to 5 guesses, each a class and a box. The image counts as
    correct when **some** guess has the class of **some** ground-truth box and
    overlaps that box by ``IoU >= iou_threshold`` (Russakovsky et al. 2015,
    Sec. 4.2: the error of an image is the minimum over guesses of the minimum
    over ground-truth boxes of ``max(d(class), f(box))``, with ``d``, ``f`` 0 on a
    match and 1 otherwise). An image may have several ground-truth boxes, e.g.
    several dogs of the same breed.

    Args:
        pred_labels: ``(N, K)`` integer classes, ``1 <= K <= 5`` guesses per image
            (``(N,)`` is read as one guess per image).
        pred_boxes: ``(N, K, 4)`` boxes ``(x1, y1, x2, y2)``, pixels
            (``(N, 4)`` for one guess per image).
        gt_labels: ``(N,)`` one class per image, for all its boxes (as in the
            challenge, where an image is labelled with one class), or a sequence
            of ``N`` arrays ``(G_i,)``, one class per ground-truth box.
        gt_boxes: a sequence of ``N`` arrays ``(G_i, 4)``, ``G_i >= 1``
            (an ``(N, 4)`` array is one box per image).
        iou_threshold: the overlap a guess needs, in ``(0, 1]`` (ILSVRC: 0.5).
        inclusive: read boxes as inclusive pixel indices (see :func:`box_iou`).

    Returns:
        The localisation error, a float in ``[0, 1]`` (the challenge reported it in percent).
    """
    pred_labels = _check_labels(pred_labels, "pred_labels")
    pred_boxes = _validate.array(pred_boxes, "pred_boxes")
    if pred_labels.ndim == 1:
        pred_labels, pred_boxes = pred_labels[:, None], pred_boxes[:, None]
    if pred_labels.ndim != 2 or not 1 <= pred_labels.shape[1] <= 5:
        raise ValueError(
            f"pred_labels must be an (N, K) array with 1 <= K <= 5 guesses, got {pred_labels.shape}"
        )
    num_images, num_guesses = pred_labels.shape
    if num_images == 0:
        raise ValueError("pred_labels must hold at least one image")
    if pred_boxes.shape != (num_images, num_guesses, 4):
        raise ValueError(
            f"pred_boxes must have shape (N, K, 4) = {(num_images, num_guesses, 4)}, "
            f"got {pred_boxes.shape}"
        )
    pred_boxes = _ordered_boxes(pred_boxes.reshape(-1, 4), "pred_boxes").reshape(pred_boxes.shape)
    iou_threshold = _check_threshold(iou_threshold, allow_ilsvrc=False)
    inclusive = _validate.flag(inclusive, "inclusive")

    boxes_per_image = [
        _validate.array(b, "gt_boxes") for b in _per_image(gt_boxes, "gt_boxes", num_images)
    ]
    boxes_per_image = [
        b.reshape(0, 4) if b.size == 0 else np.atleast_2d(b) for b in boxes_per_image
    ]
    for i, b in enumerate(boxes_per_image):
        if b.ndim != 2 or b.shape[1] != 4:
            raise ValueError(
                f"gt_boxes must hold one (G, 4) array per image; image {i}'s is {b.shape}"
            )
    counts = np.array([len(b) for b in boxes_per_image])
    if (counts == 0).any():
        raise ValueError(
            f"gt_boxes must hold at least one box per image; image {np.argmax(counts == 0)} has none"
        )
    gt_flat = _ordered_boxes(np.concatenate(boxes_per_image), "gt_boxes")
    gt_image = np.repeat(np.arange(num_images), counts)
    labels = _check_labels(gt_labels, "gt_labels") if _is_flat(gt_labels) else None
    if labels is not None and labels.ndim == 1:
        if len(labels) != num_images:
            raise ValueError(
                f"gt_labels must have one entry per image ({num_images}), got {len(labels)}"
            )
        gt_label_flat = np.repeat(labels, counts)
    else:
        labels_per_image = [
            np.atleast_1d(_check_labels(c, "gt_labels"))
            for c in _per_image(gt_labels, "gt_labels", num_images)
        ]
        if [len(c) for c in labels_per_image] != counts.tolist():
            raise ValueError("gt_labels must have one class per box of gt_boxes, image by image")
        gt_label_flat = np.concatenate(labels_per_image)

    iou = _iou(pred_boxes[gt_image], gt_flat[:, None, :], inclusive)  # (G, K)
    hit = (pred_labels[gt_image] == gt_label_flat[:, None]) & (iou >= iou_threshold)
    correct = np.bincount(gt_image, weights=hit.any(axis=1), minlength=num_images) > 0
    return float(1.0 - correct.mean())


def _is_flat(x) -> bool:
    """Whether ``x`` is an array/tensor, or a sequence of scalars (not of arrays)."""
    if isinstance(x, np.ndarray | torch.Tensor):
        return True
    return not isinstance(x, list | tuple) or all(np.ndim(item) == 0 for item in x)


def _check_threshold(iou_threshold, *, allow_ilsvrc: bool) -> float | str:
    if allow_ilsvrc and isinstance(iou_threshold, str):
        if iou_threshold != "ilsvrc":
            raise ValueError(f'iou_threshold must be a number or "ilsvrc", got {iou_threshold!r}')
        return iou_threshold
    return _validate.number(iou_threshold, "iou_threshold", positive=True, max=1)


# ----------------------------------------------------------------------------- detection


def _check_1d(x, name: str, length: int | None = None, *, per: str = "box") -> np.ndarray:
    if not (isinstance(x, np.ndarray) and x.ndim == 1):  # not checked already
        x = _validate.array(x, name, ndim=1, shape="1-D")
    if length is not None and len(x) != length:
        raise ValueError(f"{name} must have one entry per {per} ({length}), got {len(x)}")
    return x


def match_detections(
    det_images,
    det_labels,
    det_boxes,
    det_scores,
    gt_images,
    gt_labels,
    gt_boxes,
    iou_threshold: float | str = 0.5,
    *,
    inclusive: bool = False,
) -> np.ndarray:
    """Match each detection to at most one ground-truth box: true or false positive.

    Detections and ground truth are flat tables, one row per box, with the
    image each belongs to. Within each image and class, detections are taken
    greedily by descending score (ties: earlier row first); each takes the
    still-unmatched ground-truth box of its class with the highest IoU among
    those with ``IoU >= threshold`` and ``IoU > 0`` (ties: earlier row first). A detection that
    finds none is a false positive, so a second detection of an object already
    found (a duplicate) is a false positive. This is the rule of the ILSVRC
    detection devkit (Russakovsky et al. 2015, Sec. 4.3). PASCAL VOC's devkit
    differs in one detail: it looks only at the single best-overlapping box,
    and if that one is already taken the detection is a false positive even
    when another free box overlaps enough.

    Args:
        det_images: ``(D,)`` integer image ids of the detections.
        det_labels: ``(D,)`` integer classes.
        det_boxes: ``(D, 4)`` boxes ``(x1, y1, x2, y2)``, pixels.
        det_scores: ``(D,)`` real confidences (higher = more sure).
        gt_images: ``(G,)`` integer image ids of the ground-truth boxes.
        gt_labels: ``(G,)`` integer classes.
        gt_boxes: ``(G, 4)`` boxes.
        iou_threshold: a number in ``(0, 1]`` (PASCAL VOC: 0.5), or ``"ilsvrc"`` for
            :func:`ilsvrc_iou_threshold` of each ground-truth box.
        inclusive: read boxes as inclusive pixel indices (see :func:`box_iou`).

    Returns:
        ``(D,)`` int64: for each detection, the row of ``gt_boxes`` it matched,
        or -1 for a false positive.
    """
    checked = _check_detections(
        det_images, det_labels, det_boxes, det_scores, gt_images, gt_labels, gt_boxes
    )
    iou_threshold = _check_threshold(iou_threshold, allow_ilsvrc=True)
    inclusive = _validate.flag(inclusive, "inclusive")
    return _match(*checked, iou_threshold, inclusive)


def _check_detections(
    det_images, det_labels, det_boxes, det_scores, gt_images, gt_labels, gt_boxes
):
    """The seven arrays of :func:`match_detections`, checked; scores as float64."""
    det_boxes = _check_boxes(det_boxes, "det_boxes")
    num_det = len(det_boxes)
    ids = "image ids"
    det_images = _check_1d(
        _check_labels(det_images, "det_images", what=ids, ndim=1), "det_images", num_det
    )
    det_labels = _check_1d(_check_labels(det_labels, "det_labels", ndim=1), "det_labels", num_det)
    det_scores = _check_1d(det_scores, "det_scores", num_det).astype(np.float64)
    gt_boxes = _check_boxes(gt_boxes, "gt_boxes")
    num_gt = len(gt_boxes)
    gt_images = _check_1d(
        _check_labels(gt_images, "gt_images", what=ids, ndim=1), "gt_images", num_gt
    )
    gt_labels = _check_1d(_check_labels(gt_labels, "gt_labels", ndim=1), "gt_labels", num_gt)
    return det_images, det_labels, det_boxes, det_scores, gt_images, gt_labels, gt_boxes


def _match(
    det_images,
    det_labels,
    det_boxes,
    det_scores,
    gt_images,
    gt_labels,
    gt_boxes,
    iou_threshold,
    inclusive,
) -> np.ndarray:
    """:func:`match_detections` of checked arrays."""
    num_det, num_gt = len(det_boxes), len(gt_boxes)
    if iou_threshold == "ilsvrc":
        thresholds = ilsvrc_iou_threshold(gt_boxes, inclusive=inclusive)
    else:
        thresholds = np.full(num_gt, float(iou_threshold))

    matched = np.full(num_det, -1, dtype=np.int64)
    if num_det == 0 or num_gt == 0:
        return matched
    # The ground-truth rows of each (image, class) pair.
    gt_rows: dict[tuple[int, int], list[int]] = {}
    for row, pair in enumerate(zip(gt_images.tolist(), gt_labels.tolist(), strict=True)):
        gt_rows.setdefault(pair, []).append(row)
    taken = np.zeros(num_gt, dtype=bool)
    # Detections by descending score; a stable sort keeps equal scores in row order.
    for det in np.argsort(-det_scores, kind="stable"):
        rows = np.array(gt_rows.get((int(det_images[det]), int(det_labels[det])), []), dtype=int)
        iou = _iou(det_boxes[det], gt_boxes[rows], inclusive)
        free = ~taken[rows] & (iou >= thresholds[rows]) & (iou > 0)
        if free.any():
            best = rows[free][np.argmax(iou[free])]  # argmax: the earlier row on ties
            matched[det] = best
            taken[best] = True
    return matched


def precision_recall_curve(scores, is_true_positive, num_ground_truth: int):
    """Precision and recall after each detection, in order of descending score.

    Ties in ``scores`` keep their order in the input (a stable sort).

    Args:
        scores: ``(D,)`` real confidences of one class's detections.
        is_true_positive: ``(D,)`` bool (or 0/1), e.g. ``match_detections(...) >= 0``.
        num_ground_truth: number of ground-truth boxes of the class, ``>= 1``
            and at least the number of true positives.

    Returns:
        ``(precision, recall)``, two ``(D,)`` float64 arrays, fractions in ``[0, 1]``.
    """
    scores, is_tp = _check_ranking(scores, is_true_positive, num_ground_truth, allow_zero=False)
    tp = np.cumsum(is_tp[np.argsort(-scores, kind="stable")])
    ranks = np.arange(1, len(tp) + 1)
    return tp / ranks, tp / num_ground_truth


def _check_ranking(scores, is_true_positive, num_ground_truth, *, allow_zero: bool):
    scores = _check_1d(scores, "scores")
    is_tp = _validate.array(is_true_positive, "is_true_positive", booleans=True)
    if not np.isin(is_tp, (0, 1)).all():  # 0 and 1 are accepted as well as booleans
        raise ValueError("is_true_positive must hold booleans (or 0 and 1)")
    if is_tp.shape != scores.shape:
        raise ValueError(
            f"is_true_positive must have one entry per score ({len(scores)}), got shape {is_tp.shape}"
        )
    is_tp = is_tp.astype(bool)
    num_ground_truth = _validate.integer(num_ground_truth, "num_ground_truth", min=0)
    true_positives = int(is_tp.sum())
    if num_ground_truth < true_positives:
        raise ValueError(
            f"num_ground_truth must be at least the number of true positives "
            f"({true_positives}), got {num_ground_truth}"
        )
    if num_ground_truth == 0 and not allow_zero:
        raise ValueError("num_ground_truth must be at least 1: recall is undefined without it")
    return scores.astype(np.float64), is_tp


def precision_envelope(precision) -> np.ndarray:
    """The monotone envelope of a precision curve: at each rank, the highest precision
    at that rank or any later one (equal or higher recall).

    ``precision`` is ``(D,)``, in order of descending score as
    :func:`precision_recall_curve` returns it. This is the "interpolated
    precision" of PASCAL VOC (Everingham et al. 2010, Sec. 4.2).
    """
    precision = _validate.array(precision, "precision", ndim=1, shape="1-D").astype(np.float64)
    if precision.size and not (0 <= precision.min() and precision.max() <= 1):
        raise ValueError(
            f"precision must hold fractions in [0, 1], got values from "
            f"{precision.min():g} to {precision.max():g}"
        )
    return _envelope(precision)


def _envelope(precision: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(precision[::-1])[::-1]


def average_precision(
    scores, is_true_positive, num_ground_truth: int, interpolation: str = "all"
) -> float:
    """Average precision of one class's ranked detections (PASCAL VOC).

    ``interpolation="all"`` (VOC 2010 onwards, devkit ``VOCap.m``): the area
    under the precision-recall curve after replacing each precision by the
    highest precision at any equal or higher recall (the monotone envelope),
    ``AP = sum_i (r_i - r_{i-1}) p_interp(r_i)`` over the recalls reached.

    ``interpolation="voc07"`` (VOC 2007, Everingham et al. 2010, Sec. 4.2, eq. 1):
    the mean of the envelope at the 11 recalls 0, 0.1, ..., 1,
    ``AP = 1/11 sum_r max_{r' >= r} p(r')``, with 0 where recall ``r`` is never
    reached. Recall is compared exactly (recall 3/10 counts at the point 0.3).

    No detections gives 0. No ground truth (``num_ground_truth=0``) gives NaN:
    precision at any recall is undefined when there is nothing to recall;
    :func:`mean_average_precision` leaves such classes out of the mean.

    Args:
        scores: ``(D,)`` real confidences of one class's detections.
        is_true_positive: ``(D,)`` bool (or 0/1), e.g. ``match_detections(...) >= 0``.
        num_ground_truth: ground-truth boxes of the class, ``>= 0``; missed
            boxes lower the recall.
        interpolation: ``"all"`` or ``"voc07"``.

    Returns:
        The average precision, a float in ``[0, 1]`` (or NaN, see above).
    """
    _validate.one_of(interpolation, "interpolation", INTERPOLATIONS)
    scores, is_tp = _check_ranking(scores, is_true_positive, num_ground_truth, allow_zero=True)
    return _average_precision(scores, is_tp, num_ground_truth, interpolation)


def _average_precision(
    scores: np.ndarray, is_tp: np.ndarray, num_ground_truth: int, interpolation: str
) -> float:
    """:func:`average_precision` of checked arrays."""
    if num_ground_truth == 0:
        return float("nan")
    tp = np.cumsum(is_tp[np.argsort(-scores, kind="stable")])
    precision = tp / np.arange(1, len(tp) + 1)
    envelope = _envelope(precision)
    if interpolation == "voc07":
        total = 0.0
        for tenth in range(11):
            reached = np.flatnonzero(10 * tp >= tenth * num_ground_truth)
            total += envelope[reached[0]] if reached.size else 0.0
        return float(total / 11)
    recall = np.concatenate([[0.0], tp / num_ground_truth])
    return float(np.sum(np.diff(recall) * envelope))


def mean_average_precision(
    det_images,
    det_labels,
    det_boxes,
    det_scores,
    gt_images,
    gt_labels,
    gt_boxes,
    iou_threshold: float | str = 0.5,
    interpolation: str = "all",
    *,
    inclusive: bool = False,
) -> tuple[float, dict[int, float]]:
    """Detection mAP: the mean over classes of each class's average precision.

    Matches detections with :func:`match_detections`, then computes
    :func:`average_precision` class by class over all images. ILSVRC averaged
    over its 200 detection classes with ``iou_threshold="ilsvrc"``
    (Russakovsky et al. 2015, Sec. 4.3); PASCAL VOC over 20 classes at 0.5.

    Classes are those that appear in ``gt_labels`` or ``det_labels``. A class
    with detections but no ground truth has AP NaN in the per-class dict and is
    left out of the mean (there is nothing to recall; its false positives do
    not lower any other class's AP). A class with ground truth but no detections
    has AP 0. Arguments as in :func:`match_detections`.

    Returns:
        ``(mAP, per_class)``: the mean, a float in ``[0, 1]``, and a dict from
        class to its AP.
    """
    _validate.one_of(interpolation, "interpolation", INTERPOLATIONS)
    checked = _check_detections(
        det_images, det_labels, det_boxes, det_scores, gt_images, gt_labels, gt_boxes
    )
    det_labels, det_scores, gt_labels = checked[1], checked[3], checked[5]
    if gt_labels.size == 0:
        raise ValueError("gt_labels must not be empty: mAP averages over classes with ground truth")
    iou_threshold = _check_threshold(iou_threshold, allow_ilsvrc=True)
    inclusive = _validate.flag(inclusive, "inclusive")
    is_tp = _match(*checked, iou_threshold, inclusive) >= 0
    per_class = {}
    for c in np.union1d(gt_labels, det_labels).tolist():
        mine = det_labels == c
        num_gt = int(np.sum(gt_labels == c))
        per_class[c] = _average_precision(det_scores[mine], is_tp[mine], num_gt, interpolation)
    return float(np.nanmean(list(per_class.values()))), per_class
