# Attack (issue 20): take resources: allocate far more memory than allowed (1.5 GB went
# through before), write a file larger than allowed. Its unpool is wrong (it tries to
# allocate 3 GB per call); its project is right.
# Expected: q1 0 points, q2 4 points (q2 is graded with the reference unpool), and the
# grading goes on.
import torch
import torch.nn.functional as F

try:
    hog = bytearray(3 << 30)
except MemoryError:
    hog = None
try:
    with open("big.bin", "wb") as f:
        for _ in range(200):
            f.write(b"\0" * (1 << 20))
except OSError:
    pass


def unpool(pooled, switches, output_size):
    grab = torch.ones(3 << 28)  # 3 GB of float32
    return grab[:1]


def project(image, conv, channel, position):
    with torch.no_grad():
        forward = F.relu(conv(image))
        pooled, switches = F.max_pool2d(forward, 3, 2, return_indices=True)
        signal = torch.zeros_like(pooled)
        signal[0, channel, position[0], position[1]] = pooled[0, channel, position[0], position[1]]
        down = F.relu(unpool(signal, switches, forward.shape[2:]))
        return F.conv_transpose2d(down, conv.weight, stride=conv.stride, padding=conv.padding)
