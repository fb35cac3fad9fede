from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=0, hidden=False)
def test_q2_hand_worked(box_iou):
    import numpy as np
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[5, 5, 15, 15], [0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 5]])
    iou = box_iou(a, b)
    assert np.shape(iou) == (1, 4), 'one row per box of boxes_a, one column per box of boxes_b'
    assert np.allclose(iou, [[25 / 175, 1.0, 0.0, 0.5]]), f'expected [[0.143, 1.0, 0.0, 0.5]] (overlap 5 x 5 = 25 of a union of 175; the same box; apart; half of it), got {np.round(np.asarray(iou, dtype=float), 3).tolist()}'

