"""Independent numpy reference for analysis/features/selectivity.h.

usage: selectivity_reference.py RESPONSES.npy [LABELS.npy]
Prints one value per channel (space-separated): with labels the class selectivity index of
Morcos et al. 2018, (mu_max - mu_-max) / (mu_max + mu_-max) over the class-conditional means of
the classes present; without labels the lifetime sparseness of Vinje & Gallant 2000.
A zero denominator gives 0.
"""
import sys

import numpy as np


def class_selectivity(r, y):
    classes = np.unique(y)
    means = np.stack([r[y == k].mean(axis=0) for k in classes])  # [K, C]
    out = []
    for c in range(r.shape[1]):
        m = means[:, c]
        top = int(np.argmax(m))
        mu_max = m[top]
        mu_rest = np.delete(m, top).mean()
        denom = mu_max + mu_rest
        out.append((mu_max - mu_rest) / denom if denom > 0 else 0.0)
    return np.array(out)


def lifetime_sparseness(r):
    n = r.shape[0]
    mean = r.mean(axis=0)
    mean_sq = (r ** 2).mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (1.0 - mean ** 2 / mean_sq) / (1.0 - 1.0 / n)
    return np.where(mean_sq > 0, s, 0.0)


def main():
    r = np.load(sys.argv[1]).astype(np.float64)
    if len(sys.argv) > 2:
        values = class_selectivity(r, np.load(sys.argv[2]).astype(np.int64))
    else:
        values = lifetime_sparseness(r)
    print(" ".join(repr(float(v)) for v in values))


if __name__ == "__main__":
    main()
