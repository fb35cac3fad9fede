"""The hidden tests of the graded assignments, run by the trusted grader.

A test draws its inputs from the instructor's seed, asks the sandbox to call one of the
student's functions on them (:class:`Call`), and checks each returned array against a
reference computed here, in the grader's own process, with the course's implementation
(``course_utils``) or autograd. The student's code sees the inputs of the calls and
nothing else: not this file, not the seed, not the references.

Each assignment is a list of :class:`Test`; a test's points go to its question when
every one of its calls returns the right answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

#: A check: the student's returned array -> None if right, else what was wrong.
Check = Callable[[np.ndarray], "str | None"]


@dataclass
class Call:
    """One call of a student's function: its arguments, how to check the result."""

    function: str
    args: list
    check: Check
    kwargs: dict = field(default_factory=dict)
    #: functions of the student's replaced by the grader's reference for this call
    #: (name -> standalone source), e.g. q2's ``unpool``, so that a q1 slip costs q1 only
    substitute: dict = field(default_factory=dict)


@dataclass
class Test:
    """A hidden test: ``make(generator)`` gives its calls."""

    name: str
    question: str
    points: float
    make: Callable[[np.random.Generator], list[Call]]


def rng(seed: str, test: str) -> np.random.Generator:
    """The generator of one test's inputs: the same seed gives the same inputs."""
    digest = hashlib.sha256(f"{seed}/{test}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def close(want, *, atol: float = 1e-6, what: str = "", dtype=None) -> Check:
    """A check that the result has ``want``'s shape and values (and ``dtype``, if given)."""
    want = np.asarray(want)

    def check(got: np.ndarray) -> str | None:
        if got.shape != want.shape:
            return f"{what}expected shape {want.shape}, got {got.shape}"
        if dtype is not None and got.dtype != dtype:
            return f"{what}expected dtype {np.dtype(dtype).name}, got {got.dtype.name}"
        if not np.allclose(got.astype(float), want.astype(float), atol=atol, equal_nan=False):
            return f"{what}wrong values"
        return None

    return check


def equal(want, *, what: str = "") -> Check:
    """A check that the result equals ``want`` exactly (integers: indices, boxes, fields)."""
    want = np.asarray(want)

    def check(got: np.ndarray) -> str | None:
        if got.shape != want.shape:
            return f"{what}expected shape {want.shape}, got {got.shape}"
        if not np.array_equal(got, want):
            return f"{what}expected {want.tolist()}, got {got.tolist()}"[:200]
        return None

    return check


# -- a1: metrics ----------------------------------------------------------------------------


def _a1_q1_random(g):
    from course_utils.metrics import topk_accuracy

    calls = []
    for _ in range(5):
        n, c = int(g.integers(50, 200)), int(g.integers(5, 30))
        scores, labels = g.normal(size=(n, c)), g.integers(0, c, size=n)
        k = int(g.integers(1, min(c, 6) + 1))
        want = topk_accuracy(scores, labels, k=k)
        calls.append(
            Call("topk_accuracy", [scores, labels], close(want, what=f"k={k}: "), {"k": k})
        )
    return calls


def _a1_q1_ties(g):
    from course_utils.metrics import topk_accuracy

    calls = []
    for _ in range(5):
        n, c = int(g.integers(50, 200)), int(g.integers(3, 10))
        scores = g.integers(0, 3, size=(n, c)).astype(float)  # many ties
        labels = g.integers(0, c, size=n)
        k = int(g.integers(1, c))
        want = topk_accuracy(scores, labels, k=k)
        check = close(want, what="ties (the lower class index first): ")
        calls.append(Call("topk_accuracy", [scores, labels], check, {"k": k}))
    return calls


def _a1_q2_random(g):
    from course_utils.metrics import box_iou

    calls = []
    for _ in range(5):
        corners = g.uniform(0, 100, size=(2, int(g.integers(1, 20)), 2))
        sizes = g.uniform(1, 60, size=(2, corners.shape[1], 2))
        a, b = np.concatenate([corners, corners + sizes], axis=2)
        b = b[: int(g.integers(1, len(b) + 1))]
        calls.append(Call("box_iou", [a, b], close(box_iou(a, b))))
    return calls


def _a1_q2_edges(g):
    from course_utils.metrics import box_iou

    x, y = g.integers(0, 50, size=2).astype(float)
    w, h = g.integers(4, 30, size=2).astype(float)
    box = np.array([[x, y, x + w, y + h]])
    others = np.array([
        [x + w, y, x + 2 * w, y + h],  # touching on the right: IoU 0
        [x + 1, y + 1, x + w - 1, y + h - 1],  # inside
        [x - 5, y - 5, x + w + 5, y + h + 5],  # around
        [x + w + 1, y + h + 1, x + w + 9, y + h + 9],  # apart
    ])  # fmt: skip
    check = close(box_iou(box, others), what="touching, nested or disjoint boxes: ")
    return [Call("box_iou", [box, others], check)]


#: The reference box_iou, run inside the sandbox in place of the student's when grading
#: match_detections (question 3), so that a slip in question 2 costs question 2 only.
REFERENCE_BOX_IOU = """
import numpy as np


def box_iou(boxes_a, boxes_b):
    a = np.asarray(boxes_a, dtype=float)[:, None, :]
    b = np.asarray(boxes_b, dtype=float)[None, :, :]
    width = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    height = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = width * height
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter / (area_a + area_b - inter)
"""


IOU = {"box_iou": REFERENCE_BOX_IOU}


def _match_reference(det, scores, gt):
    from course_utils.metrics import match_detections

    d, n = len(det), len(gt)
    zeros = np.zeros(d, int), np.zeros(d, int)
    return match_detections(*zeros, det, scores, np.zeros(n, int), np.zeros(n, int), gt, "ilsvrc")


def _a1_q3_scenes(g):
    calls = []
    for _ in range(10):
        num_gt = int(g.integers(1, 6))
        corners = g.uniform(0, 150, size=(num_gt, 2))
        gt = np.concatenate([corners, corners + g.uniform(30, 90, size=(num_gt, 2))], axis=1)
        near = gt[g.integers(0, num_gt, size=int(g.integers(1, 10)))]
        det = np.concatenate([near + g.normal(0, 8, size=near.shape), gt[:1] + 3.0])
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        scores = g.permutation(len(det)) / len(det)
        want = _match_reference(det, scores, gt)
        calls.append(Call("match_detections", [det, scores, gt], equal(want), substitute=IOU))
    return calls


def _a1_q3_small(g):
    calls = []
    for _ in range(10):
        num_gt = int(g.integers(1, 4))
        corners = g.uniform(0, 100, size=(num_gt, 2))
        gt = np.concatenate([corners, corners + g.uniform(6, 16, size=(num_gt, 2))], axis=1)
        det = gt + g.uniform(1.5, 3, size=gt.shape) * g.choice([-1, 1], size=gt.shape)
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        det = np.concatenate([det, gt])  # and exact copies, scored lower
        scores = np.concatenate([np.linspace(1, 0.6, num_gt), np.linspace(0.5, 0.1, num_gt)])
        want = _match_reference(det, scores, gt)
        check = equal(want, what="small boxes: ")
        calls.append(Call("match_detections", [det, scores, gt], check, substitute=IOU))
    return calls


def _a1_q4_random(g):
    from course_utils.metrics import average_precision

    calls = []
    for _ in range(10):
        d = int(g.integers(5, 60))
        scores, tp = g.uniform(size=d), g.uniform(size=d) < g.uniform(0.2, 0.8)
        num_gt = int(tp.sum()) + int(g.integers(1, 5))
        want = average_precision(scores, tp, num_gt, "all")
        calls.append(Call("average_precision", [scores, tp, num_gt], close(want)))
    return calls


def _a1_q4_ties_and_empty(g):
    from course_utils.metrics import average_precision

    scores = g.integers(0, 3, size=30).astype(float)
    tp = g.uniform(size=30) < 0.5
    ranking = g.permutation([1, 0, 1, 0])  # recall 1/3 or 2/3: not on VOC 2007's 11 points
    ranked = np.arange(4.0, 0, -1)
    ties = average_precision(scores, tp, int(tp.sum()) + 2)
    return [
        Call("average_precision", [scores, tp, int(tp.sum()) + 2],
             close(ties, what="equal scores keep their order: ")),
        Call("average_precision", [ranked, ranking, 3],
             close(average_precision(ranked, ranking, 3), what="the area under the envelope: ")),
        Call("average_precision", [np.zeros(0), np.zeros(0, bool), 3],
             close(0.0, what="no detections: AP 0: ")),
    ]  # fmt: skip


A1 = [
    Test("q1_random", "q1", 2, _a1_q1_random),
    Test("q1_ties", "q1", 1, _a1_q1_ties),
    Test("q2_random", "q2", 2, _a1_q2_random),
    Test("q2_edges", "q2", 1, _a1_q2_edges),
    Test("q3_scenes", "q3", 3, _a1_q3_scenes),
    Test("q3_small_boxes", "q3", 1, _a1_q3_small),
    Test("q4_random", "q4", 2, _a1_q4_random),
    Test("q4_ties_and_empty", "q4", 1, _a1_q4_ties_and_empty),
]

# -- a2: deconvnet --------------------------------------------------------------------------

#: The reference unpool, as standalone source run inside the sandbox in place of the
#: student's for question 2 (course_utils is not importable there).
REFERENCE_UNPOOL = """
def unpool(pooled, switches, output_size):
    n, c = pooled.shape[:2]
    height, width = output_size
    out = pooled.new_zeros(n, c, height * width)
    out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))
    return out.reshape(n, c, height, width)
"""


def _unpool_reference(signal, switches, size):
    from course_utils.unpooling import unpool

    return unpool(signal, switches, size)


def _a2_q1_no_overlap(g):
    calls = []
    for case in range(3):
        n, c, k = int(g.integers(1, 3)), int(g.integers(1, 4)), int(g.integers(2, 4))
        n, c = (2, 3) if case == 0 else (n, c)  # several images and maps: switches are per map
        dtype = torch.float64 if case == 2 else torch.float32  # the dtype of pooled is kept
        size = (k * int(g.integers(2, 6)), k * int(g.integers(2, 6)))
        x = torch.from_numpy(g.normal(size=(n, c, *size))).to(dtype)
        pooled, switches = F.max_pool2d(x, k, k, return_indices=True)
        signal = torch.from_numpy(g.normal(size=pooled.shape)).to(dtype)
        want = _unpool_reference(signal, switches, size)
        check = close(want.numpy(), dtype=want.numpy().dtype, what="unpooled maps: ")
        calls.append(Call("unpool", [signal, switches, size], check))
    return calls


def _a2_q1_overlap(g):
    calls = []
    for _ in range(3):
        size = (2 * int(g.integers(3, 8)) + 1, 2 * int(g.integers(3, 8)) + 1)
        x = torch.from_numpy(g.normal(size=(2, 3, *size))).float()
        x[:, :, 2, 2] = 10.0  # a maximum shared by four windows
        pooled, switches = F.max_pool2d(x, 3, 2, return_indices=True)
        signal = torch.from_numpy(g.normal(size=pooled.shape)).float()
        want = _unpool_reference(signal, switches, size).numpy()
        check = close(want, what="where windows share a switch, their values must be added: ")
        calls.append(Call("unpool", [signal, switches, size], check))
    return calls


def _a2_q1_autograd(g):
    x = torch.from_numpy(g.normal(size=(1, 2, 11, 11))).float()
    x[:, :, 4, 4] = 10.0
    x.requires_grad_(True)
    pooled, switches = F.max_pool2d(x, 3, 2, return_indices=True)
    signal = torch.from_numpy(g.normal(size=pooled.shape)).float()
    (grad,) = torch.autograd.grad(pooled, x, signal)  # the transpose of max pooling
    check = close(grad.numpy(), what="unpooling must be the transpose of pooling: ")
    return [Call("unpool", [signal, switches.detach(), (11, 11)], check)]


def _block(conv):
    return torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.MaxPool2d(3, 2))


def _strongest(model, image, channel):
    with torch.no_grad():
        pooled = model(image)
    return divmod(int(pooled[0, channel].argmax()), pooled.shape[3])


def _deconvnet_call(conv, image, channel, what):
    from course_utils.deconvnet import DeconvNet

    model = _block(conv)
    position = _strongest(model, image, channel)
    want = DeconvNet(model).project(image, "2", channel=channel, position=position)
    return Call(
        "project",
        [image, conv, channel, position],
        close(want.numpy(), atol=1e-5, what=what),
        substitute={"unpool": REFERENCE_UNPOOL},
    )


def _seeded_conv(g, *args, **kwargs):
    generator = torch.Generator().manual_seed(int(g.integers(1 << 31)))
    conv = torch.nn.Conv2d(*args, **kwargs)
    with torch.no_grad():
        bound = 1 / np.sqrt(conv.weight[0].numel())
        conv.weight.uniform_(-bound, bound, generator=generator)
        conv.bias.uniform_(-bound, bound, generator=generator)
    return conv


def _a2_q2_deconvnet(g):
    calls = []
    for _ in range(3):
        k = int(g.choice([3, 5]))
        conv = _seeded_conv(g, 3, 4, k, padding=k // 2)
        image = torch.from_numpy(g.normal(size=(1, 3, 15, 15))).float()
        calls.append(
            _deconvnet_call(conv, image, int(g.integers(4)), "not the deconvnet's projection: ")
        )
    return calls


def _a2_q2_autograd(g):
    conv = _seeded_conv(g, 2, 3, 3, padding=1)
    image = torch.from_numpy(g.normal(size=(1, 2, 11, 11))).float().requires_grad_(True)
    pooled = F.max_pool2d(F.relu(conv(image)), 3, 2)
    channel = int(g.integers(3))
    row, column = divmod(int(pooled[0, channel].argmax()), pooled.shape[3])
    unit = pooled[0, channel, row, column]
    (grad,) = torch.autograd.grad(unit, image)
    want = (unit.detach() * grad).numpy()
    what = "in one block, the projection is the activation times its gradient: "
    return [
        Call(
            "project",
            [image.detach(), conv, channel, (row, column)],
            close(want, atol=1e-5, what=what),
            substitute={"unpool": REFERENCE_UNPOOL},
        )
    ]


def _a2_q2_stride(g):
    conv = _seeded_conv(g, 3, 4, 5, stride=2, padding=2)  # (17 + 4 - 5) is a multiple of 2
    image = torch.from_numpy(g.normal(size=(1, 3, 17, 17))).float()
    what = "a convolution of stride 2 and padding 2: "
    return [_deconvnet_call(conv, image, int(g.integers(4)), what)]


A2 = [
    Test("q1_no_overlap", "q1", 1, _a2_q1_no_overlap),
    Test("q1_overlap", "q1", 1, _a2_q1_overlap),
    Test("q1_autograd", "q1", 1, _a2_q1_autograd),
    Test("q2_deconvnet", "q2", 2, _a2_q2_deconvnet),
    Test("q2_autograd", "q2", 1, _a2_q2_autograd),
    Test("q2_stride", "q2", 1, _a2_q2_stride),
]

# -- a3: receptive field --------------------------------------------------------------------

#: References run in the sandbox in place of the student's: questions 2 and 3 call the
#: answers of the questions before; a slip there costs that question only.
REFERENCE_LAYER_GEOMETRY = """
import torch


def layer_geometry(layer):
    def first(value):
        return int(value[0]) if isinstance(value, tuple | list) else int(value)

    if isinstance(layer, torch.nn.Conv2d | torch.nn.MaxPool2d | torch.nn.AvgPool2d):
        dilation = getattr(layer, "dilation", 1)
        return (first(layer.kernel_size), first(layer.stride), first(layer.padding), first(dilation))
    return (1, 1, 0, 1)
"""
REFERENCE_RECEPTIVE_FIELD = (
    REFERENCE_LAYER_GEOMETRY
    + """

def receptive_field(model):
    size, stride, start = 1, 1, 0
    fields = []
    for layer in model:
        k, s, p, d = layer_geometry(layer)
        size, stride, start = size + d * (k - 1) * stride, stride * s, start - p * stride
        fields.append((size, stride, start))
    return fields
"""
)
GEOMETRY = {"layer_geometry": REFERENCE_LAYER_GEOMETRY}
FIELDS = {"receptive_field": REFERENCE_RECEPTIVE_FIELD}


def _random_net(g, dilation):
    """3 to 6 layers, kernels up to 5, paddings up to half a kernel, strides up to 8 in all."""
    layers, total_stride = [], 1
    for _ in range(int(g.integers(3, 7))):
        kind = g.choice(["conv", "conv", "pool", "relu"])
        s = int(g.integers(1, 3)) if total_stride < 8 else 1
        if kind == "conv":
            k = int(g.integers(1, 6))
            d = int(g.integers(1, 3)) if dilation else 1
            p = int(g.integers(0, k // 2 + 1))
            layers.append(torch.nn.Conv2d(2, 2, k, stride=s, padding=p, dilation=d))
        elif kind == "pool":
            k = int(g.integers(2, 4))
            layers.append(torch.nn.MaxPool2d(k, stride=s, padding=int(g.integers(0, k // 2 + 1))))
        else:
            layers.append(torch.nn.ReLU())
            s = 1
        total_stride *= s
    return torch.nn.Sequential(*layers)


def _fields(model, size):
    from course_utils.receptive_field import receptive_field

    table = receptive_field(model, (2, size, size))
    return table, table[["size", "stride", "start"]].to_numpy().astype(np.int64)


def _a3_q1_layers(g):
    calls = []
    for _ in range(10):
        k, s, p, d = (int(v) for v in g.integers(1, 4, size=4))
        p = min(p, k // 2)
        cases = [
            (torch.nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d), (k, s, p, d)),
            (torch.nn.MaxPool2d((k, k), stride=(s, s), padding=p), (k, s, p, 1)),
            (torch.nn.AvgPool2d(k, stride=s, padding=p), (k, s, p, 1)),
            (torch.nn.BatchNorm2d(3), (1, 1, 0, 1)),
            (torch.nn.Dropout(0.5), (1, 1, 0, 1)),
        ]
        for layer, want in cases:
            calls.append(Call("layer_geometry", [layer], equal(want, what=f"{layer}: ")))
    return calls


def _a3_q2_stride_one(g):
    calls = []
    for _ in range(5):
        kernels = g.integers(1, 8, size=4)
        model = torch.nn.Sequential(
            *[torch.nn.Conv2d(2, 2, int(k), padding=int(k) // 2) for k in kernels]
        )
        check = equal(_fields(model, 64)[1])
        calls.append(Call("receptive_field", [model], check, substitute=GEOMETRY))
    return calls


def _a3_q2_nets(name, dilation):
    def make(g):
        calls = []
        for _ in range(8):
            model = _random_net(g, dilation=dilation)
            if dilation:
                model.append(torch.nn.Conv2d(2, 2, 3, dilation=2))
            check = equal(_fields(model, 512)[1], what=f"{list(model)}: ")
            calls.append(Call("receptive_field", [model], check, substitute=GEOMETRY))
        return calls

    make.__name__ = name
    return make


def _a3_q3_inside(g):
    from course_utils.receptive_field import field_box

    calls = []
    for _ in range(8):
        model = _random_net(g, dilation=False)
        table, _ = _fields(model, 512)
        layer = int(g.integers(len(model)))
        start, stride = int(table["start"][layer]), int(table["stride"][layer])
        first = -(start // stride)  # the first unit whose field starts inside the image
        position = (first + int(g.integers(0, 3)), first + int(g.integers(0, 3)))
        want = field_box(table, str(layer), position)
        check = equal(want, what=f"layer {layer}, unit {position}: ")
        calls.append(Call("unit_box", [model, layer, position, 512], check, substitute=FIELDS))
    return calls


def _a3_q3_clipped(g):
    from course_utils.receptive_field import field_box

    calls = []
    for _ in range(8):
        model = _random_net(g, dilation=False)
        model.append(torch.nn.Conv2d(2, 2, 7, padding=3))  # every unit (0, 0) reaches the padding
        size = int(g.integers(200, 300))
        table, _ = _fields(model, size)
        with torch.no_grad():
            out = model(torch.zeros(1, 2, size, size)).shape[-1]
        last = len(model) - 1
        for position in [(0, 0), (out - 1, out - 1), (0, out - 1)]:
            want = field_box(table, str(last), position)
            check = equal(want, what=f"unit {position}, clipped to the image: ")
            call = Call("unit_box", [model, last, position, size], check, substitute=FIELDS)
            calls.append(call)
    return calls


A3 = [
    Test("q1_layers", "q1", 2, _a3_q1_layers),
    Test("q2_stride_one", "q2", 1, _a3_q2_stride_one),
    Test("q2_strides_and_pools", "q2", 2, _a3_q2_nets("strides_and_pools", dilation=False)),
    Test("q2_dilation", "q2", 1, _a3_q2_nets("dilation", dilation=True)),
    Test("q3_inside", "q3", 1, _a3_q3_inside),
    Test("q3_clipped", "q3", 1, _a3_q3_clipped),
]

#: Every assignment's hidden tests, by the name of its notebook.
ASSIGNMENTS = {"a1_metrics": A1, "a2_deconvnet": A2, "a3_receptive_field": A3}


def questions(assignment: str) -> dict[str, float]:
    """Points of each question of ``assignment``, in order (q1, q2, ...)."""
    points: dict[str, float] = {}
    for test in ASSIGNMENTS[assignment]:
        points[test.question] = points.get(test.question, 0) + test.points
    return points
