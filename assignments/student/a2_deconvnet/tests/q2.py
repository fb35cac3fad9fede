from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=0, hidden=False)
def test_q2_hand_worked(project):
    import torch
    conv = torch.nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(2.0)
    image = torch.zeros(1, 1, 5, 5)
    image[0, 0, 1, 3] = 1.5
    got = project(image, conv, 0, (0, 1))
    assert got.shape == image.shape, f'expected shape {tuple(image.shape)}, got {tuple(got.shape)}'
    want = torch.zeros(1, 1, 5, 5)
    want[0, 0, 1, 3] = 6.0
    assert torch.allclose(got, want), f"expected one value, 6.0 (the activation 2 * 1.5 = 3, times the filter 2), at row 1, column 3, the pixel the unit's maximum came from; got {got[0, 0].tolist()}"

@test_case(points=0, hidden=False)
def test_q2_zero_outside_field(project):
    import torch
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    image = torch.rand(1, 3, 13, 13)
    got = project(image, conv, 2, (0, 0))
    assert got[..., 4:, :].abs().sum() == 0 and got[..., :, 4:].abs().sum() == 0, "the projection must be zero outside the unit's receptive field"

