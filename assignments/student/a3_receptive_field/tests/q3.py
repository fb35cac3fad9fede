from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=0, hidden=False)
def test_q3_hand_worked(unit_box):
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.MaxPool2d(2), torch.nn.Conv2d(1, 1, 3))
    assert tuple(unit_box(model, 2, (1, 2), 32)) == (3, 1, 11, 9), 'row 1, column 2'
    assert tuple(unit_box(model, 2, (0, 0), 32)) == (0, 0, 7, 7), 'clipped at the top left'

