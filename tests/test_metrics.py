"""course_utils.metrics against independent references and hand-worked examples.

References: scikit-learn's ``top_k_accuracy_score``; hand-worked examples written
from the definitions (Russakovsky et al. 2015, Sec. 4; Everingham et al. 2010,
Sec. 4.2 and the VOC devkit), not from this module's output.
"""

import numpy as np
import pytest
import torch
import torchvision
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from sklearn.metrics import top_k_accuracy_score

from course_utils import metrics
from course_utils.metrics import (
    INTERPOLATIONS,
    average_precision,
    box_iou,
    confusion_matrix,
    ilsvrc_iou_threshold,
    localization_error,
    match_detections,
    mean_average_precision,
    precision_recall_curve,
    topk_accuracy,
)

# ----------------------------------------------------------------------------- top-k accuracy


@pytest.mark.parametrize("k", [1, 2, 5, 9])
def test_topk_accuracy_matches_sklearn(k):
    rng = np.random.default_rng(k)
    scores = rng.normal(size=(300, 10))  # continuous: no ties, so tie rules cannot differ
    labels = rng.integers(0, 10, size=300)
    expected = top_k_accuracy_score(labels, scores, k=k, labels=np.arange(10))
    assert topk_accuracy(scores, labels, k=k) == pytest.approx(expected)


def test_topk_accuracy_hand_worked():
    # 3 images, 4 classes. Ranks of the true class (1 = best):
    # image 0: label 2, score 0.5 is the highest -> rank 1
    # image 1: label 0, score 0.1 below 0.7 and 0.2 -> rank 3
    # image 2: label 3, score 0.3 below 0.4 only -> rank 2
    scores = [[0.1, 0.2, 0.5, 0.2], [0.1, 0.7, 0.2, 0.0], [0.2, 0.4, 0.1, 0.3]]
    labels = [2, 0, 3]
    assert topk_accuracy(scores, labels, k=1) == pytest.approx(1 / 3)
    assert topk_accuracy(scores, labels, k=2) == pytest.approx(2 / 3)
    assert topk_accuracy(scores, labels, k=3) == pytest.approx(1.0)


def test_topk_accuracy_ties_go_to_the_lower_class_index():
    # All scores equal: classes rank 0, 1, 2, 3, so top-2 holds exactly labels 0 and 1.
    scores = np.zeros((4, 4))
    labels = np.array([0, 1, 2, 3])
    assert topk_accuracy(scores, labels, k=2) == pytest.approx(0.5)
    # Class 1 ties with class 3 for the top: class 1 wins top-1, class 3 does not.
    scores = np.array([[0.0, 0.9, 0.1, 0.9], [0.0, 0.9, 0.1, 0.9]])
    assert topk_accuracy(scores, [1, 3], k=1) == pytest.approx(0.5)
    assert topk_accuracy(scores, [1, 3], k=2) == pytest.approx(1.0)


def test_topk_accuracy_accepts_tensors():
    scores = torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 2.0]], requires_grad=True)
    assert topk_accuracy(scores, torch.tensor([0, 0]), k=1) == pytest.approx(0.5)
    assert isinstance(topk_accuracy(scores, torch.tensor([0, 0])), float)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (20, 6), elements=st.floats(-3, 3, allow_nan=False)),
    arrays(np.int64, 20, elements=st.integers(0, 5)),
)
def test_topk_accuracy_is_non_decreasing_in_k(scores, labels):
    accuracies = [topk_accuracy(scores, labels, k=k) for k in range(1, 7)]
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert accuracies == sorted(accuracies)
    assert accuracies[-1] == 1.0


@pytest.mark.parametrize(
    ("scores", "labels", "k", "error", "message"),
    [
        (np.zeros((3, 4)), np.zeros(2, int), 1, ValueError, "^labels must have one entry"),
        (np.zeros((3, 4)), np.zeros(3, int), 5, ValueError, "^k must be between 1"),
        (np.zeros((3, 4)), np.zeros(3, int), 0, ValueError, "^k must be an int >= 1"),
        (np.zeros((3, 4)), np.zeros(3, int), 1.0, TypeError, "^k must be an int"),
        (
            np.full((3, 4), np.nan),
            np.zeros(3, int),
            1,
            ValueError,
            "^scores must hold finite values",
        ),
        (np.zeros((0, 4)), np.zeros(0, int), 1, ValueError, "^scores must have at least one"),
        (np.zeros(4), np.zeros(4, int), 1, ValueError, "^scores must be a 2-D"),
        (np.zeros((3, 4)), np.array([0, 1, 4]), 1, ValueError, "^labels must be class indices"),
        (np.zeros((3, 4)), np.array([0.0, 1, 2]), 1, TypeError, "^labels must hold integers"),
    ],
)
def test_topk_accuracy_bad_input_names_the_argument(scores, labels, k, error, message):
    with pytest.raises(error, match=message):
        topk_accuracy(scores, labels, k=k)


def test_confusion_matrix_matches_sklearn_and_a_hand_worked_example():
    rng = np.random.default_rng(0)
    labels, predicted = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    np.testing.assert_array_equal(
        confusion_matrix(labels, predicted, 7),
        sklearn_confusion_matrix(labels, predicted, labels=np.arange(7)),
    )
    # True 0, 0, 1, 2 predicted 0, 1, 1, 1: row 0 = [1, 1, 0], row 1 = [0, 1, 0], row 2 = [0, 1, 0].
    expected = [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    np.testing.assert_array_equal(
        confusion_matrix([0, 0, 1, 2], torch.tensor([0, 1, 1, 1])), expected
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0, 1], [0]), "^pred_labels must have one entry"),
        (([], []), "^labels must not be empty"),
        (([0, 3], [0, 1], 3), "^labels must be class indices below"),
        (([0, 1], [0, 1], 0), "^num_classes must be an int in \\[1, "),
    ],
)
def test_confusion_matrix_bad_input_names_the_argument(args, message):
    with pytest.raises(ValueError, match=message):
        confusion_matrix(*args)


# ----------------------------------------------------------------------------- box IoU


def test_box_iou_hand_worked():
    # Two 10 x 10 boxes offset by 5 in x and y: intersection 5 x 5 = 25, union 100 + 100 - 25.
    assert box_iou([[0, 0, 10, 10]], [[5, 5, 15, 15]])[0, 0] == pytest.approx(25 / 175)
    # Boxes that only touch along an edge share no area.
    assert box_iou([[0, 0, 10, 10]], [[10, 0, 20, 10]])[0, 0] == 0.0
    assert box_iou([[0, 0, 10, 10]], [[30, 30, 40, 40]])[0, 0] == 0.0


def test_box_iou_inclusive_pixels_follow_the_devkit():
    # The same pixels as above written as inclusive indices (VOCevaldet.m adds 1 to every side).
    assert box_iou([[0, 0, 9, 9]], [[5, 5, 14, 14]], inclusive=True)[0, 0] == pytest.approx(
        25 / 175
    )
    # Read inclusively, (0, 0, 10, 10) is 11 x 11 pixels; the overlap is columns/rows 5..10: 6 x 6.
    assert box_iou([[0, 0, 10, 10]], [[5, 5, 15, 15]], inclusive=True)[0, 0] == pytest.approx(
        36 / (121 + 121 - 36)
    )
    # Touching boxes share the pixel column x = 10 (1 x 11 pixels) when read inclusively.
    assert box_iou([[0, 0, 10, 10]], [[10, 0, 20, 10]], inclusive=True)[0, 0] == pytest.approx(
        11 / (121 + 121 - 11)
    )


def test_box_iou_matches_torchvision():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, size=(2, 30, 2))
    wh = rng.uniform(1, 60, size=(2, 30, 2))
    a, b = (np.concatenate([xy[i], xy[i] + wh[i]], axis=1) for i in range(2))
    expected = torchvision.ops.box_iou(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(box_iou(a, b), expected, rtol=1e-12, atol=1e-12)
    assert box_iou(torch.from_numpy(a), b).shape == (30, 30)


def test_box_iou_of_degenerate_boxes_is_zero_and_empty_inputs_give_empty_matrices():
    assert box_iou([[1, 1, 1, 1]], [[1, 1, 1, 1]])[0, 0] == 0.0
    assert box_iou(np.zeros((0, 4)), [[0, 0, 1, 1]]).shape == (0, 1)


def test_ilsvrc_iou_threshold_hand_worked():
    # thr = min(0.5, wh / ((w + 10)(h + 10))): 20 x 20 -> 400/900; 5 x 5 -> 25/225; 100 x 100 -> 0.5.
    boxes = [[0, 0, 20, 20], [3, 3, 8, 8], [0, 0, 100, 100], [0, 0, 40, 2]]
    expected = [400 / 900, 25 / 225, 0.5, 80 / (50 * 12)]
    np.testing.assert_allclose(ilsvrc_iou_threshold(boxes), expected)
    # Inclusive pixels: (0, 0, 19, 19) is 20 x 20 pixels.
    assert ilsvrc_iou_threshold([[0, 0, 19, 19]], inclusive=True)[0] == pytest.approx(4 / 9)


@pytest.mark.parametrize(
    ("boxes", "message"),
    [
        ([[0, 0, 10]], "^boxes_a must be an \\(N, 4\\) array"),
        ([[10, 0, 0, 10]], "^boxes_a must have x2 >= x1 and y2 >= y1, but box 0"),
        ([[0, 10, 10, 0]], "^boxes_a must have x2 >= x1"),
        ([[0, 0, np.nan, 10]], "^boxes_a must hold finite values"),
    ],
)
def test_box_iou_bad_input_names_the_argument(boxes, message):
    with pytest.raises(ValueError, match=message):
        box_iou(boxes, [[0, 0, 1, 1]])


# ----------------------------------------------------------------------------- localization

BOX = [0, 0, 10, 10]


def test_localization_error_hand_worked():
    # Image 0 (class 3): guess 1 has the wrong class; guess 2 the right class but
    #   IoU 40/100 = 0.4; guess 3 the right class and IoU 60/100 = 0.6 -> correct.
    # Image 1 (class 2, two boxes): guess 1 hits the second box exactly -> correct.
    # Image 2 (class 5): right box with the wrong class, right class in the wrong place -> error.
    pred_labels = [[1, 3, 3], [2, 0, 0], [4, 5, 5]]
    pred_boxes = [
        [BOX, [0, 0, 10, 4], [0, 0, 10, 6]],
        [[20, 20, 30, 30], BOX, BOX],
        [BOX, [50, 50, 60, 60], [50, 50, 60, 60]],
    ]
    gt_labels = [3, 2, 5]
    gt_boxes = [[BOX], [BOX, [20, 20, 30, 30]], [BOX]]
    assert localization_error(pred_labels, pred_boxes, gt_labels, gt_boxes) == pytest.approx(1 / 3)
    # With only the first guess (top-1 localization), image 0 is an error too.
    top1 = localization_error(
        np.array(pred_labels)[:, 0], np.array(pred_boxes)[:, 0], gt_labels, gt_boxes
    )
    assert top1 == pytest.approx(2 / 3)
    # Stricter threshold: image 0's best guess (0.6) fails at 0.7.
    assert localization_error(pred_labels, pred_boxes, gt_labels, gt_boxes, 0.7) == pytest.approx(
        2 / 3
    )


def test_localization_needs_the_box_of_the_guessed_class():
    # One image with a class-1 box at BOX and a class-7 box elsewhere. Guessing class 7 at
    # BOX overlaps only the class-1 box: an error. Guessing class 7 at its own box: correct.
    gt_labels, gt_boxes = [[1, 7]], [[BOX, [20, 20, 30, 30]]]
    assert localization_error([[7]], [[BOX]], gt_labels, gt_boxes) == 1.0
    assert localization_error([[7]], [[[20, 20, 30, 30]]], gt_labels, gt_boxes) == 0.0


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (([[1] * 6], [[BOX] * 6], [1], [[BOX]]), ValueError, "^pred_labels must be an \\(N, K\\)"),
        (([[1]], [[BOX, BOX]], [1], [[BOX]]), ValueError, "^pred_boxes must have shape"),
        (([[1]], [[BOX]], [1, 2], [[BOX]]), ValueError, "^gt_labels must have one entry"),
        (([[1]], [[BOX]], [1], [[BOX], [BOX]]), ValueError, "^gt_boxes must have one entry"),
        (([[1]], [[BOX]], [1], [np.zeros((0, 4))]), ValueError, "^gt_boxes must hold at least"),
        (([[1]], [[BOX]], [1], [[]]), ValueError, "^gt_boxes must hold at least"),
        (([[1]], [[[5, 0, 0, 5]]], [1], [[BOX]]), ValueError, "^pred_boxes must have x2 >= x1"),
        (([[1]], [[BOX]], [[1, 2]], [[BOX]]), ValueError, "^gt_labels must have one class per box"),
        (
            ([[1]], [[BOX]], [1], [[BOX]], 0.0),
            ValueError,
            "^iou_threshold must be a number in \\(0, 1\\]",
        ),
        (
            (np.zeros((0, 5), int), np.zeros((0, 5, 4)), [], []),
            ValueError,
            "^pred_labels must hold",
        ),
    ],
)
def test_localization_error_bad_input_names_the_argument(args, error, message):
    with pytest.raises(error, match=message):
        localization_error(*args)


# ----------------------------------------------------------------------------- average precision


def test_average_precision_hand_worked_voc():
    # 4 ground-truth boxes; ranked detections TP FP TP FP FP TP (one box never found).
    #   precision: 1, 1/2, 2/3, 2/4, 2/5, 3/6;  recall: 1/4, 1/4, 2/4, 2/4, 2/4, 3/4.
    # VOC 2010+ ("all"): envelope 1 on (0, 1/4], 2/3 on (1/4, 1/2], 1/2 on (1/2, 3/4]:
    #   AP = 1/4 * 1 + 1/4 * 2/3 + 1/4 * 1/2 = 13/24.
    # VOC 2007 (11 points): r = 0, .1, .2 -> 1; r = .3, .4, .5 -> 2/3; r = .6, .7 -> 1/2;
    #   r = .8, .9, 1 never reached -> 0.  AP = (3 + 2 + 1) / 11 = 6/11.
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    is_tp = np.array([1, 0, 1, 0, 0, 1], dtype=bool)
    shuffle = np.array([3, 0, 5, 1, 4, 2])  # the input order must not matter
    assert average_precision(scores[shuffle], is_tp[shuffle], 4) == pytest.approx(13 / 24)
    assert average_precision(scores[shuffle], is_tp[shuffle], 4, "voc07") == pytest.approx(6 / 11)
    precision, recall = precision_recall_curve(scores[shuffle], is_tp[shuffle], 4)
    np.testing.assert_allclose(precision, [1, 1 / 2, 2 / 3, 2 / 4, 2 / 5, 3 / 6])
    np.testing.assert_allclose(recall, [1 / 4, 1 / 4, 2 / 4, 2 / 4, 2 / 4, 3 / 4])


def test_voc07_counts_a_recall_of_exactly_three_tenths():
    # 3 of 10 boxes found, all at precision 1: recall reaches 0, .1, .2 and .3 -> AP = 4/11.
    # (0.3 as a float is below 3 * 0.1; the definition says recall >= 0.3 is reached here.)
    assert average_precision([3, 2, 1], [True] * 3, 10, "voc07") == pytest.approx(4 / 11)
    assert average_precision([3, 2, 1], [True] * 3, 10, "all") == pytest.approx(0.3)


def test_average_precision_edge_cases():
    assert average_precision([], [], 5) == 0.0  # nothing detected: nothing recalled
    assert average_precision([], [], 5, "voc07") == 0.0
    assert np.isnan(average_precision([0.5], [False], 0))  # nothing to recall: undefined
    assert average_precision([0.5], [True], 1) == 1.0


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (([0.5, 0.4], [True], 2), {}, ValueError, "^is_true_positive must have one entry"),
        (([0.5], [True], 0), {}, ValueError, "^num_ground_truth must be at least"),
        (([0.5], [True], 1.0), {}, TypeError, "^num_ground_truth must be an int"),
        (([np.nan], [True], 1), {}, ValueError, "^scores must hold finite values"),
        (([0.5], [2], 1), {}, ValueError, "^is_true_positive must hold booleans"),
        (([0.5], [True], 1), {"interpolation": "coco"}, ValueError, "^interpolation must be one"),
    ],
)
def test_average_precision_bad_input_names_the_argument(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        average_precision(*args, **kwargs)


# ----------------------------------------------------------------------------- detection


def _table(rows):
    """(image, label, x1, y1, x2, y2[, score]) rows -> the arrays match_detections takes."""
    rows = np.array(rows, dtype=float)
    table = [rows[:, 0].astype(int), rows[:, 1].astype(int), rows[:, 2:6]]
    return table + [rows[:, 6]] if rows.shape[1] == 7 else table


def test_match_detections_hand_worked():
    gt = _table([(0, 0, *BOX), (0, 0, 20, 0, 30, 10), (1, 0, *BOX)])
    det = _table(
        [
            (0, 0, *BOX, 0.9),  # best in image 0 -> first box
            (0, 0, 0, 0, 10, 9, 0.8),  # IoU 0.9 with the first box, already taken -> duplicate, FP
            (0, 0, 20, 0, 30, 10, 0.7),  # second box
            (0, 1, *BOX, 0.6),  # class 1 has no box in image 0 -> FP
            (1, 0, *BOX, 0.95),  # image 1's box
            (1, 0, 0, 0, 10, 4, 0.5),  # IoU 0.4 and the box is taken anyway -> FP
        ]
    )
    np.testing.assert_array_equal(match_detections(*det, *gt), [0, -1, 1, -1, 2, -1])
    # Class 0 over both images, by score: TP TP FP TP FP of 3 boxes.
    #   precision 1, 1, 2/3, 3/4, 3/5; recall 1/3, 2/3, 2/3, 1, 1.
    #   "all": 1/3 * 1 + 1/3 * 1 + 1/3 * 3/4 = 11/12.
    #   "voc07": r = 0 .. 0.6 (7 points) -> 1; r = 0.7 .. 1 (4 points) -> 3/4: (7 + 3) / 11.
    # Class 1 has a detection but no ground truth: NaN, left out of the mean.
    mean, per_class = mean_average_precision(*det, *gt)
    assert mean == pytest.approx(11 / 12) and per_class[0] == pytest.approx(11 / 12)
    assert set(per_class) == {0, 1} and np.isnan(per_class[1])
    assert mean_average_precision(*det, *gt, interpolation="voc07")[0] == pytest.approx(10 / 11)
    # A class with ground truth and no detections has AP 0 and counts in the mean.
    gt2 = _table([(0, 0, *BOX), (0, 0, 20, 0, 30, 10), (1, 0, *BOX), (1, 2, *BOX)])
    mean, per_class = mean_average_precision(*det, *gt2)
    assert per_class[2] == 0.0 and mean == pytest.approx(11 / 24)


def test_matching_takes_the_best_free_box_as_the_ilsvrc_devkit_does():
    # Boxes A = (0,0,10,10), B = (4,0,14,10). Detection 1 (score .9) equals A.
    # Detection 2 = (1,0,11,10): IoU with A = 90/110 = .82 (taken), with B = 70/130 = .54.
    # ILSVRC: takes the best *free* box, B -> TP. (The VOC devkit would call it a FP.)
    gt = _table([(0, 0, *BOX), (0, 0, 4, 0, 14, 10)])
    det = _table([(0, 0, *BOX, 0.9), (0, 0, 1, 0, 11, 10, 0.8)])
    np.testing.assert_array_equal(match_detections(*det, *gt), [0, 1])


def test_ilsvrc_threshold_accepts_looser_boxes_on_small_objects():
    # A 20 x 20 object (threshold 400/900 = 0.444) and a detection covering its top
    # 9 rows: IoU 180/400 = 0.45. A miss at 0.5, a hit under the ILSVRC rule.
    gt = _table([(0, 0, 0, 0, 20, 20)])
    det = _table([(0, 0, 0, 0, 20, 9, 1.0)])
    assert match_detections(*det, *gt, iou_threshold=0.5)[0] == -1
    assert match_detections(*det, *gt, iou_threshold="ilsvrc")[0] == 0
    # The same box 10 times larger must reach 0.5.
    gt, det = _table([(0, 0, 0, 0, 200, 200)]), _table([(0, 0, 0, 0, 200, 90, 1.0)])
    assert match_detections(*det, *gt, iou_threshold="ilsvrc")[0] == -1


def test_detection_accepts_tensors_and_empty_detections():
    gt = [torch.tensor(x) for x in _table([(0, 0, *BOX)])]
    det = [torch.zeros(0, dtype=torch.int64)] * 2 + [torch.zeros(0, 4), torch.zeros(0)]
    assert match_detections(*det, *gt).shape == (0,)
    assert mean_average_precision(*det, *gt) == (0.0, {0: 0.0})


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"det_scores": [0.5, 0.5]}, ValueError, "^det_scores must have one entry per box"),
        ({"det_scores": [np.nan]}, ValueError, "^det_scores must hold finite values"),
        ({"det_boxes": [[10, 0, 0, 10]]}, ValueError, "^det_boxes must have x2 >= x1"),
        ({"gt_labels": [-1]}, ValueError, "^gt_labels must be non-negative"),
        ({"gt_images": [0.0]}, TypeError, "^gt_images must hold integers"),
        ({"iou_threshold": "voc"}, ValueError, '^iou_threshold must be a number or "ilsvrc"'),
        ({"iou_threshold": 1.5}, ValueError, "^iou_threshold must be a number in"),
        ({"interpolation": "11point"}, ValueError, "^interpolation must be one of"),
        (
            {"gt_images": [], "gt_labels": [], "gt_boxes": np.zeros((0, 4))},
            ValueError,
            "^gt_labels must not be empty",
        ),
    ],
)
def test_mean_average_precision_bad_input_names_the_argument(change, error, message):
    args = {
        "det_images": [0],
        "det_labels": [0],
        "det_boxes": [BOX],
        "det_scores": [0.5],
        "gt_images": [0],
        "gt_labels": [0],
        "gt_boxes": [BOX],
    } | change
    with pytest.raises(error, match=message):
        mean_average_precision(**args)


# ----------------------------------------------------------------------------- properties


def _reference_matching(
    det_images, det_labels, det_boxes, det_scores, gt_images, gt_labels, gt_boxes
):
    """The greedy rule written out loop by loop, straight from its definition, at IoU 0.5."""
    matched = [-1] * len(det_scores)
    taken = set()
    for d in sorted(range(len(det_scores)), key=lambda d: (-det_scores[d], d)):
        best, best_iou = -1, -1.0
        for g in range(len(gt_labels)):
            if g in taken or gt_images[g] != det_images[d] or gt_labels[g] != det_labels[d]:
                continue
            a, b = det_boxes[d], gt_boxes[g]
            iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
            ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
            union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
            iou = iw * ih / union if union > 0 else 0.0
            if iou >= 0.5 and iou > best_iou:
                best, best_iou = g, iou
        if best >= 0:
            matched[d] = best
            taken.add(best)
    return matched


@st.composite
def detection_problems(draw, max_boxes=12):
    """Small random detection problems on a coarse grid, so that boxes often overlap."""

    def boxes(n):
        corners = draw(arrays(np.int64, (n, 2), elements=st.integers(0, 6)))
        sizes = draw(arrays(np.int64, (n, 2), elements=st.integers(1, 4)))
        return np.concatenate([corners, corners + sizes], axis=1).astype(float)

    n_gt = draw(st.integers(1, max_boxes))
    n_det = draw(st.integers(0, max_boxes))
    gt = [
        draw(arrays(np.int64, n_gt, elements=st.integers(0, 2))),
        draw(arrays(np.int64, n_gt, elements=st.integers(0, 2))),
        boxes(n_gt),
    ]
    scores = draw(arrays(np.float64, n_det, elements=st.floats(0, 1, allow_nan=False), unique=True))
    det = [
        draw(arrays(np.int64, n_det, elements=st.integers(0, 2))),
        draw(arrays(np.int64, n_det, elements=st.integers(0, 2))),
        boxes(n_det),
        scores,
    ]
    return det, gt


@settings(max_examples=100, deadline=None)
@given(detection_problems())
def test_matching_agrees_with_the_loop_by_loop_reference(problem):
    det, gt = problem
    assert match_detections(*det, *gt).tolist() == _reference_matching(*det, *gt)


@settings(max_examples=100, deadline=None)
@given(detection_problems(), st.sampled_from(INTERPOLATIONS), st.randoms(use_true_random=False))
def test_map_properties(problem, interpolation, random):
    det, gt = problem
    mean, per_class = mean_average_precision(*det, *gt, interpolation=interpolation)
    assert 0.0 <= mean <= 1.0
    assert all(0.0 <= ap <= 1.0 for ap in per_class.values() if not np.isnan(ap))
    # Permuting detections with distinct scores changes nothing.
    order = list(range(len(det[3])))
    random.shuffle(order)
    assert mean_average_precision(*[x[order] for x in det], *gt, interpolation=interpolation)[
        0
    ] == pytest.approx(mean)
    # A perfect detector (every box found once, any scores) scores 1.
    scores = np.arange(len(gt[0]), dtype=float)
    assert mean_average_precision(*gt, scores, *gt, interpolation=interpolation)[0] == 1.0
    # Adding a false positive (in an image with no ground truth) below every score never raises mAP.
    if len(det[3]):
        image = np.max(gt[0]) + 1
        extra = [
            np.append(det[0], image),
            np.append(det[1], gt[1][0]),
            np.vstack([det[2], [0, 0, 1, 1]]),
            np.append(det[3], det[3].min() - 1),
        ]
        assert mean_average_precision(*extra, *gt, interpolation=interpolation)[0] <= mean + 1e-12


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, st.integers(0, 30), elements=st.floats(0, 1), unique=True),
    st.data(),
    st.sampled_from(INTERPOLATIONS),
)
def test_average_precision_properties(scores, data, interpolation):
    is_tp = data.draw(arrays(np.bool_, len(scores)))
    num_gt = int(is_tp.sum()) + data.draw(st.integers(0 if is_tp.any() else 1, 5))
    ap = average_precision(scores, is_tp, num_gt, interpolation)
    assert 0.0 <= ap <= 1.0
    lowest = scores.min() - 1 if len(scores) else 0.0
    assert (
        average_precision(np.append(scores, lowest), np.append(is_tp, False), num_gt, interpolation)
        <= ap + 1e-12
    )
    permutation = data.draw(st.permutations(range(len(scores))))
    assert average_precision(
        scores[permutation], is_tp[permutation], num_gt, interpolation
    ) == pytest.approx(ap)


# --- Added after review: cases the earlier examples did not separate ----------------------


def test_envelope_matters_tp_fp_tp_tp():
    # Ranking TP, FP, TP, TP with 3 ground-truth boxes (worked from the VOC definitions):
    # precision 1, 1/2, 2/3, 3/4 at recall 1/3, 1/3, 2/3, 1; envelope 1, 3/4, 3/4, 3/4.
    # "all": 1/3 * 1 + 1/3 * 3/4 + 1/3 * 3/4 = 0.8333 (0.8056 without the envelope).
    # "voc07": recalls 0, .1, .2, .3 -> 1; .4 ... 1.0 (7 points) -> 3/4: (4 + 5.25) / 11 = 0.8409.
    scores, is_tp = [0.9, 0.8, 0.7, 0.6], [True, False, True, True]
    assert average_precision(scores, is_tp, 3, "all") == pytest.approx(5 / 6)
    assert average_precision(scores, is_tp, 3, "voc07") == pytest.approx(9.25 / 11)


def test_iou_exactly_at_the_threshold_is_a_match():
    # (0, 0, 10, 10) against (0, 0, 10, 5): 50 / 100 = 0.5, and the rule is IoU >= 0.5.
    matched = match_detections([0], [0], [[0, 0, 10, 10]], [0.9], [0], [0], [[0, 0, 10, 5]])
    assert matched.tolist() == [0]


def test_equal_scores_the_earlier_detection_matches():
    # Two detections with the same score on one ground-truth box: the earlier row matches
    # (documented tie rule), even though the later one overlaps better.
    boxes = [[0, 0, 10, 8], [0, 0, 10, 10]]
    matched = match_detections([0, 0], [0, 0], boxes, [0.5, 0.5], [0], [0], [[0, 0, 10, 10]])
    assert matched.tolist() == [0, -1]


def test_precision_envelope_hand_worked():
    # TP, FP, TP, TP: precision 1, 1/2, 2/3, 3/4; the best at equal or later rank: 1, 3/4, 3/4, 3/4.
    from course_utils.metrics import precision_envelope

    np.testing.assert_allclose(
        precision_envelope([1, 1 / 2, 2 / 3, 3 / 4]), [1, 3 / 4, 3 / 4, 3 / 4]
    )
    with pytest.raises(ValueError, match="^precision must be a 1-D array"):
        precision_envelope([[1.0]])


def test_box_iou_inclusive_equals_torchvision_on_the_same_pixels():
    """The devkit's inclusive indices (x1, y1, x2, y2) are torchvision's (x1, y1, x2 + 1, y2 + 1).

    torchvision reads boxes as continuous rectangles (width x2 - x1), as box_iou does by
    default; the ILSVRC/VOC devkits add 1 to every width and height. On the same pixels,
    written each way, the two conventions agree.
    """
    rng = np.random.default_rng(1)
    xy = rng.integers(0, 100, size=(2, 25, 2))
    wh = rng.integers(0, 40, size=(2, 25, 2))
    a, b = (np.concatenate([xy[i], xy[i] + wh[i]], axis=1).astype(float) for i in range(2))
    shifted = [torch.from_numpy(x + [0, 0, 1, 1]) for x in (a, b)]
    expected = torchvision.ops.box_iou(*shifted).numpy()
    np.testing.assert_allclose(box_iou(a, b, inclusive=True), expected, rtol=1e-12, atol=1e-12)


def test_box_iou_differs_from_torchvision_only_on_degenerate_boxes():
    """A zero-area pair: torchvision divides 0 by 0 (NaN); the course returns 0 (documented)."""
    point = np.array([[1.0, 1.0, 1.0, 1.0]])
    assert torch.isnan(
        torchvision.ops.box_iou(torch.from_numpy(point), torch.from_numpy(point))
    ).all()
    assert box_iou(point, point)[0, 0] == 0.0


def test_box_iou_in_steps_equals_box_iou_at_once(monkeypatch):
    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 100, size=(2, 40, 2))
    a, b = (np.concatenate([xy[i], xy[i] + 20], axis=1) for i in range(2))
    at_once = box_iou(a, b)
    monkeypatch.setattr(metrics, "IOU_CHUNK", 7)  # 1 row of a per step
    np.testing.assert_array_equal(box_iou(a, b), at_once)


def test_mean_average_precision_checks_each_argument_once(monkeypatch):
    """Issue 22: the arrays were validated again by every public function mAP called."""
    seen = []
    real = metrics._validate.array

    def counting(value, name, **kwargs):
        seen.append(name)
        return real(value, name, **kwargs)

    monkeypatch.setattr(metrics._validate, "array", counting)
    boxes = [[0, 0, 10, 10], [20, 20, 30, 30]]
    metrics.mean_average_precision([0, 0], [1, 2], boxes, [0.9, 0.8], [0, 0], [1, 2], boxes)
    assert sorted(seen) == sorted(set(seen)), seen


@pytest.mark.parametrize(
    "second", [np.zeros((1, 3)), np.zeros((1, 2, 4))], ids=["(1, 3)", "(1, 2, 4)"]
)
def test_localization_error_names_an_image_whose_boxes_are_not_g_by_4(second):
    """Before: NumPy's concatenate error, which names no argument."""
    with pytest.raises(ValueError, match="^gt_boxes must hold one .G, 4. array per image; image 1"):
        localization_error([1, 2], [[0, 0, 5, 5], [0, 0, 5, 5]], [1, 2], [np.zeros((1, 4)), second])
