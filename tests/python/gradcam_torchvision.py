"""Writes a live Grad-CAM reference from Debian's python3-torchvision into OUT_DIR: a random-init
resnet18 (randomised BatchNorm statistics) as weights.pth (torch.save of the state_dict),
input.npy [1,3,SIZE,SIZE], logits.npy, and <method>_layer4.npy / <method>_layer3.npy: the raw maps
of the top-1 class, [h,w], no ReLU, resize or scaling, for
  gradcam    sum_c mean_hw(G_c) A_c                                   (Selvaraju et al. 2017)
  gradcampp  w_c = sum_hw relu(G) * G^2 / (2 G^2 + sum_hw(A_c) G^3)  (Chattopadhay et al. 2018;
             0 where G = 0, eps 1e-7 in the denominator), sum_c w_c A_c
  xgradcam   w_c = sum_hw G A_c / sum_hw(A_c) (eps 1e-7)              (Fu et al. 2020), sum_c w_c A_c
  layercam   sum_c relu(G_c) A_c, per location                        (Jiang et al. 2021)
with A the layer's activation and G = dlogit/dA. Activations come from forward hooks, gradients
from torch.autograd.grad (pytorch-grad-cam's recipe); the weights follow pytorch-grad-cam's
formulas, written here in numpy.
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
    eps = 1e-7
    for name, g in zip(layers, grads):
        a = acts[name].detach().double().numpy()[0]  # [C,h,w]
        g = g.double().numpy()[0]
        sum_a = a.sum(axis=(1, 2), keepdims=True)
        g2, g3 = g ** 2, g ** 3
        alpha = np.where(g != 0, g2 / (2 * g2 + sum_a * g3 + eps), 0.0)
        maps = {
            "gradcam": (g.mean(axis=(1, 2), keepdims=True) * a).sum(axis=0),
            "gradcampp": ((np.maximum(g, 0) * alpha).sum(axis=(1, 2), keepdims=True) * a).sum(axis=0),
            "xgradcam": ((g * a / (sum_a + eps)).sum(axis=(1, 2), keepdims=True) * a).sum(axis=0),
            "layercam": (np.maximum(g, 0) * a).sum(axis=0),
        }
        for method, cam in maps.items():
            np.save(os.path.join(out_dir, method + "_" + name + ".npy"), cam.astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 128)
