from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=0, hidden=False)
def test_q1_hand_worked(topk_accuracy):
    import numpy as np
    scores = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]])
    labels = np.array([2, 0])
    assert topk_accuracy(scores, labels, k=1) == 0.0, "k=1: both rows' best class is wrong"
    assert topk_accuracy(scores, labels, k=2) == 1.0, 'k=2: class 0 beats class 1 on a tie'
    assert topk_accuracy(scores, labels, k=3) == 1.0, 'k=C: every image is right'

@test_case(points=0, hidden=False)
def test_q1_all_tied(topk_accuracy):
    import numpy as np
    scores = np.zeros((4, 4))
    labels = np.array([0, 1, 2, 3])
    assert topk_accuracy(scores, labels, k=2) == 0.5, 'all tied: the top 2 are classes 0 and 1'

