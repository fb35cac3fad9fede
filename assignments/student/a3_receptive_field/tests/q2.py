from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=0, hidden=False)
def test_q2_hand_worked(receptive_field):
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 8, 3))
    want = [(3, 1, -1), (3, 1, -1), (4, 2, -1), (8, 2, -1)]
    got = [tuple(row) for row in receptive_field(model)]
    assert got == want, f'expected {want}, got {got}'

@test_case(points=0, hidden=False)
def test_q2_alexnet_conv1(receptive_field):
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 11, stride=4, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2))
    got = [tuple(row) for row in receptive_field(model)]
    assert got[-1] == (19, 8, -2), f"AlexNet's first pooled units see 19 pixels; got {got[-1]}"

@test_case(points=0, hidden=False)
def test_q2_dilation(receptive_field):
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, dilation=2), torch.nn.Conv2d(1, 1, 3, dilation=2, padding=2))
    want = [(5, 1, 0), (9, 1, -2)]
    got = [tuple(row) for row in receptive_field(model)]
    assert got == want, f'a 3-wide kernel with dilation 2 spans d * (k - 1) + 1 = 5 pixels: expected {want}, got {got}'

