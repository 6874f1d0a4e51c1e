"""Independent effective receptive field (Luo et al. 2016) with torch autograd on torchvision's
ResNet-18, and the 50%/90% mass radii with numpy.
  erf_reference.py make OUT_DIR  -> weights.pth, input.npy [4,3,64,64], erf_<tap>.npy for layer1..4
  erf_reference.py radii MAP.npy CY CX  -> prints the radii holding 50% and 90% of the mass"""
import os
import sys

import numpy as np


def make(out_dir):
    import torch  # only here: the radii mode needs numpy alone

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_torchvision_resnet import randomised_resnet

    model = randomised_resnet("resnet18")
    torch.manual_seed(1)
    x = torch.randn(4, 3, 64, 64, requires_grad=True)
    taps = {}
    for name in ["layer1", "layer2", "layer3", "layer4"]:
        model.get_submodule(name).register_forward_hook(lambda _m, _i, out, name=name: taps.__setitem__(name, out))
    model(x)
    os.makedirs(out_dir, exist_ok=True)
    for name, a in taps.items():
        cy, cx = a.shape[2] // 2, a.shape[3] // 2
        (g,) = torch.autograd.grad(a[:, :, cy, cx].sum(), x, retain_graph=True)
        erf = g.abs().double().sum(dim=(0, 1)) / x.shape[0]
        np.save(os.path.join(out_dir, "erf_" + name + ".npy"), erf.float().numpy())
    torch.save(model.state_dict(), os.path.join(out_dir, "weights.pth"))
    np.save(os.path.join(out_dir, "input.npy"), x.detach().numpy())


def radii(path, cy, cx):
    m = np.load(path).astype(np.float64)
    yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
    d = np.hypot(yy - cy, xx - cx).ravel()
    order = np.argsort(d, kind="stable")
    cumulative = np.cumsum(m.ravel()[order])
    out = []
    for f in (0.5, 0.9):
        k = int(np.searchsorted(cumulative, f * cumulative[-1], side="left"))
        out.append(d[order[min(k, len(order) - 1)]])
    print("%.12f %.12f" % tuple(out))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        radii(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
