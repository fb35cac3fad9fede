# Attack (issue 20): read the grading seed (the environment, every process's environment
# and command line, files named like seeds), and reach the network. It answers correctly
# only if it found the test's canary seed or the network: a score above 0 means a leak.
# Expected: 0 points.
import os
import socket
from pathlib import Path

import torch
import torch.nn.functional as F

CANARY = "canary-seed-7f3a"
leaked = []
if any(CANARY in value for value in os.environ.values()):
    leaked.append("environment")
for entry in Path("/proc").iterdir():
    for part in ("environ", "cmdline"):
        try:
            if CANARY.encode() in (entry / part).read_bytes():
                leaked.append(f"/proc/{entry.name}/{part}")
        except OSError:
            pass
for folder in ["/", "/tmp", "/work", "/root", os.path.expanduser("~")]:
    try:
        for path in Path(folder).glob("*seed*"):
            if CANARY in path.read_text(errors="ignore"):
                leaked.append(str(path))
    except OSError:
        pass
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2).close()
    leaked.append("network")
except OSError:
    pass


def unpool(pooled, switches, output_size):
    assert leaked, "nothing leaked"
    n, c = pooled.shape[:2]
    out = pooled.new_zeros(n, c, output_size[0] * output_size[1])
    out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))
    return out.reshape(n, c, *output_size)


def project(image, conv, channel, position):
    assert leaked, "nothing leaked"
    with torch.no_grad():
        forward = F.relu(conv(image))
        pooled, switches = F.max_pool2d(forward, 3, 2, return_indices=True)
        signal = torch.zeros_like(pooled)
        signal[0, channel, position[0], position[1]] = pooled[0, channel, position[0], position[1]]
        down = F.relu(unpool(signal, switches, forward.shape[2:]))
        return F.conv_transpose2d(down, conv.weight, stride=conv.stride, padding=conv.padding)
