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

@test_case(points=0, hidden=False)
def test_q1_each_map_on_its_own(unpool):
    import torch
    import torch.nn.functional as F
    x = torch.arange(2 * 2 * 4 * 4, dtype=torch.float32).reshape(2, 2, 4, 4).flip(-1)
    pooled, switches = F.max_pool2d(x, 2, 2, return_indices=True)
    got = unpool(pooled, switches, (4, 4))
    assert got.shape == (2, 2, 4, 4), f'expected shape (2, 2, 4, 4), got {tuple(got.shape)}'
    for n in range(2):
        for c in range(2):
            want = torch.zeros(4, 4)
            want.view(-1)[switches[n, c].reshape(-1)] = pooled[n, c].reshape(-1)
            assert torch.equal(got[n, c], want), f'image {n}, channel {c}: a switch is the index of a pixel within its own (H, W) map, so each map is unpooled on its own: expected {want.tolist()}, got {got[n, c].tolist()}'

@test_case(points=0, hidden=False)
def test_q1_keeps_the_dtype(unpool):
    import torch
    import torch.nn.functional as F
    x = torch.rand(1, 2, 6, 6, dtype=torch.float64)
    pooled, switches = F.max_pool2d(x, 2, 2, return_indices=True)
    try:
        got = unpool(pooled, switches, (6, 6))
    except RuntimeError as error:
        raise AssertionError(f'with float64 pooled maps, unpool failed ({error}): the result must be float64 too, the dtype of pooled (e.g. pooled.new_zeros)') from None
    assert got.dtype == torch.float64, f'pooled is float64, so the result must be float64 too (e.g. pooled.new_zeros), got {got.dtype}'
    assert torch.allclose(got.sum(), pooled.sum()), 'every pooled value goes back, exactly once'

