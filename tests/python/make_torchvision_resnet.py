"""Writes a live ResNet reference from Debian's python3-torchvision into OUT_DIR:
weights.pth (torch.save of the state_dict), input.npy, logits.npy, taps/<name>.npy (NCHW).
BatchNorm statistics are randomised so that folding and running statistics are exercised."""
import os
import sys

import numpy as np
import torch
import torchvision


def randomised_resnet(arch):
    """torchvision `arch` with seed-0 random weights and randomised BatchNorm statistics, eval mode."""
    torch.manual_seed(0)
    model = getattr(torchvision.models, arch)(weights=None).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    return model


def main(out_dir, arch, size):
    model = randomised_resnet(arch)
    taps = {}
    names = ["maxpool", "layer1", "layer2", "layer3", "layer4", "layer1.0", "layer4.1"]
    for name in names:
        module = model.get_submodule(name)
        module.register_forward_hook(lambda _m, _i, out, name=name: taps.__setitem__(name, out))
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        logits = model(x)
    os.makedirs(os.path.join(out_dir, "taps"), exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out_dir, "weights.pth"))
    np.save(os.path.join(out_dir, "input.npy"), x.numpy())
    np.save(os.path.join(out_dir, "logits.npy"), logits.numpy())
    for name, t in taps.items():
        np.save(os.path.join(out_dir, "taps", name + ".npy"), t.contiguous().numpy())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 224)
