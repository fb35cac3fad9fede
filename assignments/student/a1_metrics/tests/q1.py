from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=0, hidden=False)
def test_q1_hand_worked(topk_accuracy):
    import numpy as np
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    labels = np.array([2, 0])
    got = topk_accuracy(scores, labels, k=1)
    assert got == 0.0, f"k=1: both rows' best class is wrong: expected 0.0, got {got}"
    got = topk_accuracy(scores, labels, k=2)
    assert got == 1.0, f'k=2: class 0 beats class 1 on a tie, so both rows are right: expected 1.0, got {got}'
    got = topk_accuracy(scores, labels, k=3)
    assert got == 1.0, f'k=C: every image is right: expected 1.0, got {got}'

@test_case(points=0, hidden=False)
def test_q1_all_tied(topk_accuracy):
    import numpy as np
    scores = np.zeros((4, 4))
    labels = np.array([0, 0, 1, 3])
    got = topk_accuracy(scores, labels, k=2)
    assert got == 0.75, f'all tied: the top 2 are classes 0 and 1, so 3 of the 4 labels are found: expected 0.75, got {got}'

