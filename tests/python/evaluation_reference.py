#!/usr/bin/env python3
"""Independent references for the evaluation metrics' C++ tests (scipy, skimage, numpy).

  evaluation_reference.py similarity A.npy B.npy
      -> "spearman spearman_abs ssim hog": scipy.stats.spearmanr of the raw and absolute maps;
         skimage.metrics.structural_similarity of the maps each min-max rescaled to [0,1]
         (data_range=1, skimage's defaults: 7x7 uniform window, K1 0.01, K2 0.03, sample
         covariance); the Pearson correlation (numpy.corrcoef) of skimage.feature.hog descriptors
         (orientations=9, pixels_per_cell=(8,8), cells_per_block=(3,3), block_norm='L2-Hys').
  evaluation_reference.py kendall X.npy Y.npy        -> scipy.stats.kendalltau (tau-b)
  evaluation_reference.py complexity A.npy
      -> "gini entropy": the Gini coefficient as the mean absolute difference over all pairs,
         sum_ij |a_i - a_j| / (2 n sum_i a_i), of a = |A|; scipy.stats.entropy of |A| (natural log).
  evaluation_reference.py bootstrap V.npy            -> scipy.stats.bootstrap (percentile, 95%,
         20000 resamples) "low high" of the mean
  evaluation_reference.py impute IMG.npy REMOVED.npy OUT.npy
      -> ROAD's noisy linear imputation without the noise (Rong et al. 2022, sec. 4): for every
         removed pixel, its value = the weighted mean of its in-image 8 neighbours (weight 1/6
         for the 4 direct, 1/12 for the 4 diagonal ones), known pixels fixed; the sparse system
         solved with scipy.sparse.linalg.spsolve, one right-hand side per channel.
"""
import sys

import numpy as np


def unit(m):
    lo, hi = m.min(), m.max()
    return (m - lo) / (hi - lo) if hi > lo else np.zeros_like(m)


def similarity(a, b):
    from scipy.stats import spearmanr
    from skimage.feature import hog
    from skimage.metrics import structural_similarity
    rho = spearmanr(a.ravel(), b.ravel()).correlation
    rho_abs = spearmanr(np.abs(a).ravel(), np.abs(b).ravel()).correlation
    ssim = structural_similarity(unit(a), unit(b), data_range=1.0)
    params = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(3, 3), block_norm='L2-Hys')
    ha, hb = hog(unit(a), **params), hog(unit(b), **params)
    return [rho, rho_abs, ssim, np.corrcoef(ha, hb)[0, 1]]


def complexity(a):
    from scipy.stats import entropy
    x = np.abs(a).ravel().astype(np.float64)
    gini = np.abs(x[:, None] - x[None, :]).sum() / (2.0 * x.size * x.sum())
    return [gini, entropy(x)]


def impute(img, removed):
    from scipy.sparse import lil_matrix
    from scipy.sparse.linalg import spsolve
    c, h, w = img.shape
    unknown = [(r, q) for r in range(h) for q in range(w) if removed[r, q]]
    index = {p: i for i, p in enumerate(unknown)}
    a = lil_matrix((len(unknown), len(unknown)))
    b = np.zeros((len(unknown), c))
    offsets = [((dr, dq), 1.0 / 12 if dr and dq else 1.0 / 6)
               for dr in (-1, 0, 1) for dq in (-1, 0, 1) if dr or dq]
    for i, (r, q) in enumerate(unknown):
        total = 0.0
        for (dr, dq), wt in offsets:
            rr, qq = r + dr, q + dq
            if not (0 <= rr < h and 0 <= qq < w):
                continue
            total += wt
            if removed[rr, qq]:
                a[i, index[(rr, qq)]] = -wt
            else:
                b[i] += wt * img[:, rr, qq]
        a[i, i] = total
    x = spsolve(a.tocsc(), b).reshape(len(unknown), c)
    out = img.copy()
    for i, (r, q) in enumerate(unknown):
        out[:, r, q] = x[i]
    return out


def main():
    cmd = sys.argv[1]
    arrays = [np.load(p).astype(np.float64) for p in sys.argv[2:4] if p.endswith('.npy')]
    if cmd == 'similarity':
        values = similarity(*arrays)
    elif cmd == 'kendall':
        from scipy.stats import kendalltau
        values = [kendalltau(arrays[0], arrays[1]).correlation]
    elif cmd == 'complexity':
        values = complexity(arrays[0])
    elif cmd == 'bootstrap':
        from scipy.stats import bootstrap
        ci = bootstrap((arrays[0],), np.mean, n_resamples=20000, method='percentile',
                       random_state=np.random.default_rng(0)).confidence_interval
        values = [ci.low, ci.high]
    elif cmd == 'impute':
        out = impute(arrays[0][0] if arrays[0].ndim == 4 else arrays[0], arrays[1] > 0.5)
        np.save(sys.argv[4], out.astype(np.float64))
        values = [0.0]
    else:
        raise SystemExit('unknown command ' + cmd)
    print(' '.join(repr(float(v)) for v in values))


if __name__ == '__main__':
    main()
