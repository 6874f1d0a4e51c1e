#!/usr/bin/env python3
"""Independent linear CKA for the C++ tests: HSIC written out as in the papers, with numpy.

  biased   HSIC_0(K, L) = tr(K H L H) / (n-1)^2                 (Gretton et al. 2005)
  debiased HSIC_1(K, L) = [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))
                          with K~ = K with a zero diagonal      (Song et al. 2012, eq. 5)
  CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)), K = X X^T, L = Y Y^T (linear kernel).

  cka_reference.py X.npy Y.npy   -> prints "biased debiased" (debiased "nan" when n < 4)
"""
import sys

import numpy as np


def hsic0(k, l):
    n = k.shape[0]
    h = np.eye(n) - np.ones((n, n)) / n
    return np.trace(k @ h @ l @ h) / (n - 1) ** 2


def hsic1(k, l):
    n = k.shape[0]
    kt, lt = k.copy(), l.copy()
    np.fill_diagonal(kt, 0.0)
    np.fill_diagonal(lt, 0.0)
    one = np.ones(n)
    return (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ kt @ lt @ one)) / (n * (n - 3))


def cka(k, l, hsic):
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


def main():
    x = np.load(sys.argv[1]).astype(np.float64)
    y = np.load(sys.argv[2]).astype(np.float64)
    x, y = x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)
    k, l = x @ x.T, y @ y.T
    debiased = cka(k, l, hsic1) if x.shape[0] >= 4 else float("nan")
    print(f"{cka(k, l, hsic0):.17g} {debiased:.17g}")


if __name__ == "__main__":
    main()
