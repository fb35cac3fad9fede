from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=0, hidden=False)
def test_q1_hand_worked(unpool):
    import torch
    import torch.nn.functional as F
    x = torch.tensor([[[[1.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0], [0.0, 3.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    pooled, switches = F.max_pool2d(x, 2, 2, return_indices=True)
    want = torch.tensor([[[[0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0], [0.0, 3.0, 4.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]])
    got = unpool(pooled, switches, (4, 4))
    assert got.shape == (1, 1, 4, 4), f'expected shape (1, 1, 4, 4), got {tuple(got.shape)}'
    assert torch.equal(got, want), f'each maximum goes back where it came from: expected {want[0, 0].tolist()}, got {got[0, 0].tolist()}'

@test_case(points=0, hidden=False)
def test_q1_overlap_adds(unpool):
    import torch
    import torch.nn.functional as F
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1.0
    pooled, switches = F.max_pool2d(x, 3, 2, return_indices=True)
    got = unpool(torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]), switches, (5, 5))
    assert got[0, 0, 2, 2] == 10.0, f'four windows share the centre switch: expected 1 + 2 + 3 + 4 = 10 there, got {float(got[0, 0, 2, 2])}'
    assert got.sum() == 10.0, 'nothing goes anywhere else'

