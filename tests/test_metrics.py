"""course_utils.metrics against independent references and hand-worked examples.

References: scikit-learn's ``top_k_accuracy_score``; hand-worked examples written
from the definitions (Russakovsky et al. 2015, Sec. 4; Everingham et al. 2010,
Sec. 4.2 and the VOC devkit), not from this module's output.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import top_k_accuracy_score

from course_utils.metrics import topk_accuracy

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
        (np.zeros((3, 4)), np.zeros(3, int), 0, ValueError, "^k must be between 1"),
        (np.zeros((3, 4)), np.zeros(3, int), 1.0, TypeError, "^k must be an int"),
        (np.full((3, 4), np.nan), np.zeros(3, int), 1, ValueError, "^scores must be finite"),
        (np.zeros((0, 4)), np.zeros(0, int), 1, ValueError, "^scores must have at least one"),
        (np.zeros(4), np.zeros(4, int), 1, ValueError, "^scores must be a 2-D"),
        (np.zeros((3, 4)), np.array([0, 1, 4]), 1, ValueError, "^labels must be class indices"),
        (np.zeros((3, 4)), np.array([0.0, 1, 2]), 1, TypeError, "^labels must hold integer"),
    ],
)
def test_topk_accuracy_bad_input_names_the_argument(scores, labels, k, error, message):
    with pytest.raises(error, match=message):
        topk_accuracy(scores, labels, k=k)
