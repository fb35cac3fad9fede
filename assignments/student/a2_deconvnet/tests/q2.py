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

@test_case(points=0, hidden=False)
def test_q2_bias_and_one_unit(project):
    import torch
    conv = torch.nn.Conv2d(1, 2, 1)
    with torch.no_grad():
        conv.weight[:, 0, 0, 0] = torch.tensor([2.0, 3.0])
        conv.bias[:] = torch.tensor([1.0, 1.0])
    image = torch.zeros(1, 1, 5, 5)
    image[0, 0, 1, 3] = 1.5
    image[0, 0, 3, 0] = 1.0
    got = project(image, conv, 0, (0, 1))
    assert got.shape == image.shape, f'expected shape {tuple(image.shape)}, got {tuple(got.shape)}'
    others = got.clone()
    others[0, 0, 1, 3] = 0
    assert others.abs().sum() == 0, f'only the chosen unit, of the chosen channel, goes down (the signal is zero everywhere else): expected one value, at row 1, column 3; got {got[0, 0].tolist()}'
    assert got[0, 0, 1, 3] == 8.0, f"the unit's activation includes the bias: 2 * 1.5 + 1 = 4, carried down through the filter 2, gives 8.0 at row 1, column 3; got {float(got[0, 0, 1, 3])} (6.0: the bias was left out; 24.5: channel 1's unit, 3 * 1.5 + 1 = 5.5 through its filter 3, was carried down too)"

@test_case(points=0, hidden=False)
def test_q2_stride(project):
    import torch
    conv = torch.nn.Conv2d(1, 1, 1, stride=2, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    image = torch.zeros(1, 1, 9, 9)
    image[0, 0, 2, 4] = 1.0
    got = project(image, conv, 0, (0, 0))
    assert got.shape == (1, 1, 9, 9), f'a convolution of stride 2 goes from 9 x 9 to 5 x 5; the way down (conv_transpose2d with stride=conv.stride) goes back to 9 x 9: expected shape (1, 1, 9, 9), got {tuple(got.shape)}'
    want = torch.zeros(1, 1, 9, 9)
    want[0, 0, 2, 4] = 1.0
    assert torch.equal(got, want), f'with stride 2, conv output (1, 2) comes from pixel (2, 4): expected 1.0 there only, got {got[0, 0].tolist()}'

@test_case(points=0, hidden=False)
def test_q2_transposed_not_correlated(project):
    import torch
    conv = torch.nn.Conv2d(1, 1, 3, padding=1, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 0, 0] = 2.0
    image = torch.zeros(1, 1, 7, 7)
    image[0, 0, 3, 3] = 1.0
    got = project(image, conv, 0, (2, 2))
    want = torch.zeros(1, 1, 7, 7)
    want[0, 0, 3, 3] = 4.0
    assert torch.equal(got, want), f"the way down filters with the transposed (flipped) filter, F.conv_transpose2d: the unit's activation goes back to the pixel that caused it, (3, 3), as 4.0; got {got[0, 0].tolist()} (4.0 at (5, 5) means the filter was not flipped)"

