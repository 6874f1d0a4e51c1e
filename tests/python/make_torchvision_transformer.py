"""Writes a live reference for ViT, Swin or ConvNeXt from Debian's python3-torchvision into
OUT_DIR: weights.pth (torch.save of torchvision's own state_dict), input.npy, logits.npy and
taps/<name>.npy (NCHW, named as FeatureScope names them: timm's state_dict prefixes).
Usage: make_torchvision_transformer.py OUT_DIR ARCH  (ARCH: vit_b_16, swin_t, convnext_tiny, ...)
Every parameter is re-drawn (matrices N(0,1)/sqrt(fan_in), norm weights 1+0.1N, biases and the
ConvNeXt layer scale 0.1N, tokens and embeddings 0.2N, Swin's bias table 0.5N) so that no block is
close to the identity and attention is far from uniform."""
import os
import sys

import numpy as np
import torch
import torchvision


def randomise(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if "relative_position_bias_table" in name:
                p.normal_(0, 0.5)
            elif leaf == "layer_scale":
                p.normal_(0, 0.1)
            elif name in ("class_token", "encoder.pos_embedding"):
                p.normal_(0, 0.2)
            elif p.dim() >= 2:
                p.normal_(0, 1).div_(float(np.sqrt(p[0].numel())))
            elif leaf == "bias":
                p.normal_(0, 0.1)
            else:  # norm weights
                p.normal_(0, 0.1).add_(1.0)
    return model


def tap_modules(model, arch):
    """FeatureScope tap name -> (torchvision module, layout of its output)."""
    taps = {}
    if arch.startswith("vit"):
        taps["patch_embed"] = (model.conv_proj, "nchw")
        layers = model.encoder.layers
        for i, block in enumerate(layers):
            taps["blocks.%d" % i] = (block, "tokens")
        taps["blocks.%d.norm1" % (len(layers) - 1)] = (layers[-1].ln_1, "tokens")
        taps["norm"] = (model.encoder.ln, "tokens")
        return taps
    # Swin and ConvNeXt: features = [stem, stage 0, merge/downsample, stage 1, ...]
    swin = arch.startswith("swin")
    stage_name, layout = ("layers", "nhwc") if swin else ("stages", "nchw")
    taps["patch_embed" if swin else "stem"] = (model.features[0], layout)
    for s in range(4):
        stage = model.features[2 * s + 1]
        for b, block in enumerate(stage):
            taps["%s.%d.blocks.%d" % (stage_name, s, b)] = (block, layout)
        taps["%s.%d" % (stage_name, s)] = (stage, layout)
    if swin:
        taps["norm"] = (model.norm, layout)
    return taps


def to_nchw(t, layout):
    if layout == "nhwc":
        return t.permute(0, 3, 1, 2)
    if layout == "tokens":  # [B, 1+N, D]: drop the class token, patches row-major
        b, n, d = t.shape
        g = int(round((n - 1) ** 0.5))
        return t[:, 1:].transpose(1, 2).reshape(b, d, g, g)
    return t


def main(out_dir, arch):
    model = randomise(getattr(torchvision.models, arch)(weights=None).eval())
    outputs = {}
    for name, (module, layout) in tap_modules(model, arch).items():
        module.register_forward_hook(
            lambda _m, _i, out, name=name, layout=layout: outputs.__setitem__(name, to_nchw(out, layout)))
    torch.manual_seed(1)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        logits = model(x)
    os.makedirs(os.path.join(out_dir, "taps"), exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out_dir, "weights.pth"))
    np.save(os.path.join(out_dir, "input.npy"), x.numpy())
    np.save(os.path.join(out_dir, "logits.npy"), logits.numpy())
    for name, t in outputs.items():
        np.save(os.path.join(out_dir, "taps", name + ".npy"), t.contiguous().numpy())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
