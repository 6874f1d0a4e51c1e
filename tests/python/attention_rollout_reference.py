"""Independent reference for attention rollout and gradient-weighted attention rollout.
Usage: attention_rollout_reference.py FIXTURE_DIR OUT_DIR
Rebuilds a ViT / DeiT reference fixture (config.json, weights.pth) as plain torch following timm's
VisionTransformer / VisionTransformerDistilled module layout (patch_embed.proj, prefix tokens
then pos_embed, pre-norm blocks with fused qkv, norm, head / mean of head and head_dist), checks
its logits and every block's attention probabilities against the fixture, and writes
  rollout.npy      Abnar & Zuidema 2020 as in jacobgil/vit-explain (rollout(), discard_ratio 0,
                   head fusion "mean"): a = (mean_h A + I) / 2, a /= a.sum(-1), result = a @ result
  grad_rollout.npy Chefer, Gur & Wolf 2021 as in Transformer-MM-Explainability's ViT notebook
                   (avg_heads, apply_self_attention_rules, generate_relevance): R += (grad*cam)
                   .clamp(min=0).mean(heads) @ R
both the class token's row over the patch tokens, [h,w], float64, for the fixture's target_class."""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def forward(sd, cfg, x):
    dim, heads = cfg["embed_dim"], cfg["num_heads"]
    eps = cfg.get("layer_norm_eps", 1e-6)
    hd = dim // heads
    t = F.conv2d(x, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=cfg["patch_size"])
    t = t.flatten(2).transpose(1, 2)
    prefix = [sd["cls_token"].expand(x.shape[0], -1, -1)]
    if cfg.get("distilled"):
        prefix.append(sd["dist_token"].expand(x.shape[0], -1, -1))
    t = torch.cat(prefix + [t], dim=1) + sd["pos_embed"]
    attns = []
    for i in range(cfg["depth"]):
        p = "blocks.%d." % i
        y = F.layer_norm(t, (dim,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], eps)
        b, n, _ = y.shape
        qkv = F.linear(y, sd[p + "attn.qkv.weight"], sd.get(p + "attn.qkv.bias"))
        q, k, v = qkv.reshape(b, n, 3, heads, hd).permute(2, 0, 3, 1, 4).unbind(0)
        a = ((q * hd ** -0.5) @ k.transpose(-2, -1)).softmax(dim=-1)
        a.retain_grad()
        attns.append(a)
        o = (a @ v).transpose(1, 2).reshape(b, n, dim)
        t = t + F.linear(o, sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"])
        y = F.layer_norm(t, (dim,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], eps)
        y = F.linear(F.gelu(F.linear(y, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
                     sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])
        t = t + y
    t = F.layer_norm(t, (dim,), sd["norm.weight"], sd["norm.bias"], eps)
    logits = F.linear(t[:, 0], sd["head.weight"], sd["head.bias"])
    if cfg.get("distilled"):
        logits = (logits + F.linear(t[:, 1], sd["head_dist.weight"], sd["head_dist.bias"])) / 2
    return logits, attns


def close(ours, ref, what):
    err = (ours - ref).abs() - (1e-4 + 1e-4 * ref.abs())
    if err.max().item() > 0:
        sys.exit("%s differs from the fixture by %g" % (what, (ours - ref).abs().max().item()))


def main():
    fixture, out = sys.argv[1], sys.argv[2]
    cfg = json.load(open(os.path.join(fixture, "config.json")))
    sd = torch.load(os.path.join(fixture, "weights.pth"))
    sd = {k: v.float().requires_grad_(v.is_floating_point()) for k, v in sd.items()}
    x = torch.from_numpy(np.load(os.path.join(fixture, "input.npy")))
    logits, attns = forward(sd, cfg, x)
    close(logits.detach(), torch.from_numpy(np.load(os.path.join(fixture, "logits.npy"))), "logits")
    for i, a in enumerate(attns):
        close(a.detach(), torch.from_numpy(np.load(os.path.join(fixture, "attn", "blocks.%d.npy" % i))), "attn %d" % i)
    target = cfg["target_class"]
    one_hot = torch.zeros_like(logits)
    one_hot[0, target] = 1
    (one_hot * logits).sum().backward()
    prefix = 2 if cfg.get("distilled") else 1
    grid = cfg["img_size"] // cfg["patch_size"]
    tokens = attns[0].shape[-1]
    # vit-explain's rollout (head_fusion "mean", discard_ratio 0), in float64.
    result = torch.eye(tokens, dtype=torch.float64)
    for a in attns:
        fused = a.detach().double()[0].mean(dim=0)
        fused = (fused + torch.eye(tokens, dtype=torch.float64)) / 2
        fused = fused / fused.sum(dim=-1, keepdim=True)
        result = torch.matmul(fused, result)
    np.save(os.path.join(out, "rollout.npy"), result[0, prefix:].reshape(grid, grid).numpy())
    # generate_relevance of the Chefer et al. ViT notebook, in float64.
    r = torch.eye(tokens, dtype=torch.float64)
    for a in attns:
        cam = a.detach().double().reshape(-1, tokens, tokens)
        grad = a.grad.double().reshape(-1, tokens, tokens)
        cam = (grad * cam).clamp(min=0).mean(dim=0)
        r = r + torch.matmul(cam, r)
    np.save(os.path.join(out, "grad_rollout.npy"), r[0, prefix:].reshape(grid, grid).numpy())
    print("ok")


if __name__ == "__main__":
    main()
