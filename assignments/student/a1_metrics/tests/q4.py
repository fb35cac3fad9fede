from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = None

@test_case(points=0, hidden=False)
def test_q4_hand_worked(average_precision):
    import numpy as np
    ap = average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0]), 3)
    assert np.isclose(ap, 5 / 9), f'expected 5/9 = 0.5556, got {ap}'
    ap = average_precision(np.array([0.6, 0.7, 0.8, 0.9]), np.array([0, 1, 0, 1]), 3)
    assert np.isclose(ap, 5 / 9), 'rank by descending score first'

@test_case(points=0, hidden=False)
def test_q4_perfect(average_precision):
    import numpy as np
    ap = average_precision(np.array([3.0, 2.0]), np.array([1, 1]), 2)
    assert np.isclose(ap, 1.0), f'two true positives for two boxes: expected 1.0, got {ap}'
    assert np.isclose(average_precision(np.array([3.0, 2.0]), np.array([1, 1]), 4), 0.5), 'boxes never found lower the recall'

@test_case(points=0, hidden=False)
def test_q4_envelope(average_precision):
    import numpy as np
    ap = average_precision(np.array([5.0, 4.0, 3.0, 2.0, 1.0]), np.array([1, 0, 0, 1, 1]), 3)
    assert np.isclose(ap, 11 / 15), f'expected 11/15 = 0.7333 (precision 1/2 at rank 4 becomes 3/5, the precision at rank 5), got {ap}; without the envelope it would be 0.7'

