"""Plain NumPy references: similarity and the sequential greedy, one candidate at a time."""

import numpy as np


def sim_ref(a, b, measure, max_lag=5):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if measure == "nrmse":
        den = max(np.abs(a).max(), np.abs(b).max(), 0.01)  # NRMSE_FLOOR: 1 % strain
        return 1.0 - np.sqrt(np.mean((a - b) ** 2)) / den
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return float(na == nb)
    n = a.size
    best = -np.inf
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            c = np.dot(a[lag:], b[: n - lag])
        else:
            c = np.dot(a[: n + lag], b[-lag:])
        best = max(best, c)
    return best / (na * nb)


def greedy_ref(candidates_by_impact, threshold, measure, max_lag=5):
    """Kept (impact, row) pairs of the sequential greedy."""
    kept, origin = [], []
    for i, cands in enumerate(candidates_by_impact):
        for j, c in enumerate(np.asarray(cands)):
            if all(sim_ref(c, k, measure, max_lag) < threshold for k in kept):
                kept.append(c)
                origin.append((i, j))
    return origin
