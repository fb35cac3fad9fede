# Attack (issue 20): make every comparison pass (torch.allclose, torch.equal, numpy's
# allclose and array_equal return True), replace otter's test results with passing ones,
# and return zeros. Expected: 0 points (the comparisons run in the grader's process).
import numpy as np
import torch

torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
try:
    import otter.test_files.exception_test as exception_test

    exception_test.ExceptionTestFile.run = lambda self, env: None
except Exception:
    pass


def unpool(pooled, switches, output_size):
    return torch.zeros(*pooled.shape[:2], *output_size)


def project(image, conv, channel, position):
    return torch.zeros_like(image)
