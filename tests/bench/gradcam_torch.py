"""Python torch 1.13 peer for `featurescope-cli saliency resnet50 --method gradcam --repeat N`:
torchvision resnet50 (random weights, eval), a 224 x 224 input, Grad-CAM at layer4 with hooks.
RECIPE "frozen" (default) is the same computation as FeatureScope: weights frozen, a forward hook
keeps the activations, torch.autograd.grad gives d logit / d activations (backward stops at the
tap). RECIPE "pytorch-grad-cam" is that library's BaseCAM: trainable weights, a tensor hook on the
activations' gradient, and loss.backward() through the whole network.
Prints JSON {"recipe", "threads", "median_ms", "runs"} after one warm-up run.
usage: gradcam_torch.py THREADS REPEAT [frozen|pytorch-grad-cam]"""
import json
import statistics
import sys
import time

import torch
import torchvision


def gradcam(model, acts, x):
    logits = model(x)
    target = int(logits[0].argmax())
    grad, = torch.autograd.grad(logits[0, target], acts["layer4"])
    return (grad.mean(dim=(2, 3), keepdim=True) * acts["layer4"]).sum(dim=1)[0].detach()


def gradcam_backward(model, acts, x):
    logits = model(x)
    target = int(logits[0].argmax())
    model.zero_grad()
    logits[0, target].backward()
    grad = acts["grad"]
    return (grad.mean(dim=(2, 3), keepdim=True) * acts["layer4"]).sum(dim=1)[0].detach()


def keep(acts, out):
    acts["layer4"] = out
    if out.requires_grad:
        out.register_hook(lambda g: acts.__setitem__("grad", g))


def main():
    threads, repeat = int(sys.argv[1]), int(sys.argv[2])
    recipe = sys.argv[3] if len(sys.argv) > 3 else "frozen"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    acts = {}
    model.layer4.register_forward_hook(lambda _m, _i, out: keep(acts, out))
    x = torch.randn(1, 3, 224, 224)
    if recipe == "frozen":
        for p in model.parameters():
            p.requires_grad_(False)
        x.requires_grad_(True)
        fn = gradcam
    else:
        fn = gradcam_backward
    fn(model, acts, x)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(model, acts, x)
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"recipe": recipe, "threads": threads, "median_ms": statistics.median(times), "runs": repeat}))


if __name__ == "__main__":
    main()
