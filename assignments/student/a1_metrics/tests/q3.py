from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=0, hidden=False)
def test_q3_duplicate(match_detections):
    import numpy as np
    gt = np.array([[0, 0, 100, 100]])
    det = np.array([[0, 0, 100, 100], [2, 2, 100, 100]])
    got = np.asarray(match_detections(det, np.array([0.9, 0.8]), gt)).tolist()
    assert got == [0, -1], f'the second detection of the same object is a duplicate: expected [0, -1], got {got}'
    got = np.asarray(match_detections(det, np.array([0.7, 0.8]), gt)).tolist()
    assert got == [-1, 0], f'detections are taken by descending score: expected [-1, 0], got {got}'

@test_case(points=0, hidden=False)
def test_q3_small_box(match_detections):
    import numpy as np
    gt = np.array([[0, 0, 10, 10]])
    det = np.array([[2, 2, 12, 12]])
    got = np.asarray(match_detections(det, np.array([1.0]), gt)).tolist()
    assert got == [0], f'a 10 x 10 box needs IoU >= 100 / (20 * 20) = 0.25 only, and this detection has IoU 64 / 136 = 0.47: expected [0], got {got}'

@test_case(points=0, hidden=False)
def test_q3_next_free_box(match_detections):
    import numpy as np
    gt = np.array([[0, 0, 100, 100], [10, 0, 110, 100]])
    det = np.array([[0, 0, 100, 100], [5, 0, 105, 100]])
    got = np.asarray(match_detections(det, np.array([0.9, 0.8]), gt)).tolist()
    assert got == [0, 1], f'box 0 is taken: the second detection takes the free box 1: expected [0, 1], got {got}'

