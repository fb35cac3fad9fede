from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=0, hidden=False)
def test_q3_hand_worked(unit_box):
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.MaxPool2d(2), torch.nn.Conv2d(1, 1, 3))
    got = tuple(unit_box(model, 2, (1, 2), 32))
    assert got == (3, 1, 11, 9), f'row 1, column 2: columns -1 + 2 * 2 = 3 to 3 + 8 = 11, rows 1 to 9, expected (x1, y1, x2, y2) = (3, 1, 11, 9), got {got}'
    got = tuple(unit_box(model, 2, (0, 0), 32))
    assert got == (0, 0, 7, 7), f'unit (0, 0) sees -1 to 7, clipped at the top left: expected (0, 0, 7, 7), got {got}'

