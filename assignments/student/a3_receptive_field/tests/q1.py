from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=0, hidden=False)
def test_q1_hand_worked(layer_geometry):
    import torch
    cases = [(torch.nn.Conv2d(3, 8, 5, stride=2, padding=1), (5, 2, 1, 1)), (torch.nn.Conv2d(3, 8, 3, padding=2, dilation=2), (3, 1, 2, 2)), (torch.nn.MaxPool2d(3, 2), (3, 2, 0, 1)), (torch.nn.ReLU(), (1, 1, 0, 1))]
    for layer, want in cases:
        got = tuple(layer_geometry(layer))
        assert got == want, f'{layer}: expected (kernel, stride, padding, dilation) = {want}, got {got}'

