#!/usr/bin/env python3
"""Independent check of one point of the independent model-parameter randomisation (Adebayo et al.
2018, "Sanity Checks for Saliency Maps", sec. 3.1) on a basic-block ResNet (torchvision v1.5
layout: conv1 7x7/2, bn1, ReLU, max-pool 3x3/2, layer1..4 with strides 1,2,2,2, global mean, fc).

  independent_randomisation_reference.py TRAINED.safetensors FRESH.safetensors UNIT INPUT.npy MAP.npy

Builds the network in torch from TRAINED's tensors, replaces every tensor of UNIT (its name or
names under "UNIT.") with FRESH's, and computes the vanilla gradient map (Simonyan et al. 2014:
max over colour channels of |d logit_target / d input|) in eval mode (BatchNorm with its running
statistics) for the trained network's top-1 class on INPUT [1,3,H,W]. Prints
"TARGET MAX_ABS_DIFF MAX_ABS_MAP REPLACED": the difference to MAP.npy (the C++ map), the map's
scale and how many tensors were replaced."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from atlas_reference import read_safetensors  # the float32 tensors, straight from the file's bytes


def bn(x, s, p):
    return F.batch_norm(x, s[p + ".running_mean"], s[p + ".running_var"], s[p + ".weight"], s[p + ".bias"],
                        training=False, eps=1e-5)


def forward(s, x):
    x = F.relu(bn(F.conv2d(x, s["conv1.weight"], stride=2, padding=3), s, "bn1"))
    x = F.max_pool2d(x, 3, 2, 1)
    for layer in range(1, 5):
        b = 0
        while "layer%d.%d.conv1.weight" % (layer, b) in s:
            p = "layer%d.%d" % (layer, b)
            stride = 2 if layer > 1 and b == 0 else 1
            y = F.relu(bn(F.conv2d(x, s[p + ".conv1.weight"], stride=stride, padding=1), s, p + ".bn1"))
            y = bn(F.conv2d(y, s[p + ".conv2.weight"], padding=1), s, p + ".bn2")
            if p + ".downsample.0.weight" in s:
                x = bn(F.conv2d(x, s[p + ".downsample.0.weight"], stride=stride), s, p + ".downsample.1")
            x = F.relu(y + x)
            b += 1
    return F.linear(x.mean((2, 3)), s["fc.weight"], s["fc.bias"])


def main():
    trained, fresh = ({k: torch.from_numpy(v.copy()) for k, v in read_safetensors(p).items()} for p in sys.argv[1:3])
    unit = sys.argv[3]
    x = torch.from_numpy(np.load(sys.argv[4]).astype(np.float32))
    ours = np.load(sys.argv[5]).astype(np.float64)
    with torch.no_grad():
        target = int(forward(trained, x).argmax(1)[0])
    state = dict(trained)
    replaced = 0
    for name in trained:
        if name == unit or name.startswith(unit + "."):
            state[name] = fresh[name]
            replaced += 1
    x = x.clone().requires_grad_(True)
    forward(state, x)[0, target].backward()
    ref = x.grad[0].abs().amax(0).double().numpy()
    print(target, float(np.abs(ref - ours).max()), float(np.abs(ref).max()), replaced)


if __name__ == "__main__":
    main()
