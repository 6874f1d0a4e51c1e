"""Writes a live Grad-CAM reference from Debian's python3-torchvision into OUT_DIR: a random-init
resnet18 (randomised BatchNorm statistics) as weights.pth (torch.save of the state_dict),
input.npy [1,3,SIZE,SIZE], logits.npy, and gradcam_layer4.npy / gradcam_layer3.npy: the raw
Grad-CAM sum_c mean_hw(dlogit/dA_c) * A_c of the top-1 class, [h,w], no ReLU, resize or scaling.
Activations come from forward hooks, gradients from torch.autograd.grad (pytorch-grad-cam's recipe).
usage: gradcam_torchvision.py OUT_DIR [SIZE]"""
import os
import sys

import numpy as np
import torch

from make_torchvision_resnet import randomised_resnet


def main(out_dir, size):
    model = randomised_resnet("resnet18")
    layers = ["layer4", "layer3"]
    acts = {}
    for name in layers:
        model.get_submodule(name).register_forward_hook(
            lambda _m, _i, out, name=name: acts.__setitem__(name, out))
    x = torch.randn(1, 3, size, size)
    logits = model(x)
    target = int(logits[0].argmax())
    grads = torch.autograd.grad(logits[0, target], [acts[n] for n in layers])
    os.makedirs(out_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out_dir, "weights.pth"))
    np.save(os.path.join(out_dir, "input.npy"), x.numpy())
    np.save(os.path.join(out_dir, "logits.npy"), logits.detach().numpy())
    for name, g in zip(layers, grads):
        cam = (g.mean(dim=(2, 3), keepdim=True) * acts[name]).sum(dim=1)[0]
        np.save(os.path.join(out_dir, "gradcam_" + name + ".npy"), cam.detach().numpy().astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 128)
