# A correct answer to assignment 2, written independently of course_utils (scatter_add on
# maps flattened per image and channel; the transposed convolution of torch).
import torch
import torch.nn.functional as F


def unpool(pooled, switches, output_size):
    n, c = pooled.shape[:2]
    height, width = output_size
    out = pooled.new_zeros(n, c, height * width)
    out.scatter_add_(2, switches.reshape(n, c, -1), pooled.reshape(n, c, -1))
    return out.reshape(n, c, height, width)


def project(image, conv, channel, position):
    with torch.no_grad():
        forward = F.relu(conv(image))
        pooled, switches = F.max_pool2d(forward, 3, 2, return_indices=True)
        signal = torch.zeros_like(pooled)
        row, column = position
        signal[0, channel, row, column] = pooled[0, channel, row, column]
        down = F.relu(unpool(signal, switches, forward.shape[2:]))
        return F.conv_transpose2d(down, conv.weight, stride=conv.stride, padding=conv.padding)
