"""Agreement coefficients: pure functions of coders × units arrays and coders' spans.

No store, no SQL: ``qualcode.agreement.compare`` builds the arrays from a project and calls these.

Per unit (coders × units arrays, NaN = missing)
    percent agreement (pairwise, any number of coders), Cohen's kappa (two coders;
    scikit-learn), Krippendorff's alpha (any level, missing allowed; the ``krippendorff``
    package), Fleiss' kappa (a subjects × categories count table; statsmodels), and nominal
    alpha of 0/1 data in closed form with a seeded percentile-bootstrap interval over units.
Over characters
    Krippendorff's unitizing alpha (uα) of coders' half-open spans on a continuum.

numpy, krippendorff, scikit-learn and statsmodels are imported inside the functions:
``qualcode --help`` stays fast. Checked against the references in docs/methods.md.
"""
from __future__ import annotations

import math
import warnings
from typing import Literal

N_BOOT = 1000
SEED = 20240601
CI_LEVEL = 0.95


def _finite(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def krippendorff_alpha(data, level: Literal["nominal", "ordinal", "interval", "ratio"] = "nominal",
                       value_domain=None) -> float | None:
    """Krippendorff's alpha of a coders × units array (NaN = missing); None when undefined."""
    import krippendorff
    import numpy as np

    data = np.asarray(data, dtype=float)
    try:
        with np.errstate(all="ignore"):  # no variation at all: alpha is 0/0, reported as None
            return _finite(krippendorff.alpha(reliability_data=data, level_of_measurement=level, value_domain=value_domain))
    except ValueError:  # fewer than two values in the domain, or no pairable unit
        return None


def cohen_kappa(a, b, weights: str | None = None, sample_weight=None, labels=None) -> float | None:
    """Cohen's kappa of two coders' labels (scikit-learn); None when undefined (e.g. one constant category)."""
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _finite(cohen_kappa_score(a, b, weights=weights, sample_weight=sample_weight, labels=labels))


def fleiss_kappa(table) -> float | None:
    """Fleiss' kappa of a subjects × categories count table (statsmodels); None when undefined."""
    import numpy as np
    from statsmodels.stats.inter_rater import fleiss_kappa as _fleiss

    table = np.asarray(table, dtype=float)
    if table.shape[0] == 0:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return _finite(_fleiss(table, method="fleiss"))


def percent_agreement(data) -> float | None:
    """Percent agreement of a coders × units array (NaN = missing), for any number of coders.

    The share of agreeing pairable values: Σ_u Σ_c n_uc(n_uc − 1)/(m_u − 1) / Σ_u m_u over units
    with m_u ≥ 2 values (= 1 − nominal D_o; DKPro's definition). For two coders without
    missing values it is the share of units they agree on.
    """
    import numpy as np

    data = np.asarray(data, dtype=float)
    agree = total = 0.0
    for column in data.T:
        values = column[~np.isnan(column)]
        m = len(values)
        if m < 2:
            continue
        _, counts = np.unique(values, return_counts=True)
        agree += float((counts * (counts - 1)).sum()) / (m - 1)
        total += m
    return agree / total if total else None


def pairable_units(data) -> int:
    """Units with at least two coders' values (what alpha and percent agreement rest on)."""
    import numpy as np

    data = np.asarray(data, dtype=float)
    return int(((~np.isnan(data)).sum(axis=0) >= 2).sum())


def binary_alpha_bootstrap(data, n_boot: int = N_BOOT, seed: int = SEED, level: float = CI_LEVEL):
    """Percentile bootstrap interval (resampling pairable units) for nominal alpha of 0/1 data.

    Vectorised: for binary values alpha = 1 − (n−1)·Σ_u 2·n0_u·n1_u/(m_u−1) / (2·N0·N1), so each
    resample is a weighted sum. Resamples where alpha is undefined are dropped. None when
    fewer than two units are pairable or no resample is defined.
    """
    import numpy as np

    data = np.asarray(data, dtype=float)
    valued = ~np.isnan(data)
    m = valued.sum(axis=0)
    keep = m >= 2
    if keep.sum() < 2:
        return None
    n1 = np.where(valued, data == 1, False).sum(axis=0)[keep].astype(float)
    m = m[keep].astype(float)
    n0 = m - n1
    dis = 2.0 * n0 * n1 / (m - 1.0)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(m), np.full(len(m), 1.0 / len(m)), size=n_boot).astype(float)
    n = counts @ m
    big0, big1 = counts @ n0, counts @ n1
    with np.errstate(divide="ignore", invalid="ignore"):
        alphas = 1.0 - (n - 1.0) * (counts @ dis) / (2.0 * big0 * big1)
    alphas = alphas[np.isfinite(alphas)]
    if len(alphas) == 0:
        return None
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(alphas, [tail, 100.0 - tail])
    return [float(lo), float(hi)]


def binary_alpha(data) -> float | None:
    """Nominal alpha of 0/1 data by the closed form (the bootstrap's estimator; equals krippendorff's)."""
    import numpy as np

    data = np.asarray(data, dtype=float)
    valued = ~np.isnan(data)
    m = valued.sum(axis=0)
    keep = m >= 2
    n1 = np.where(valued, data == 1, False).sum(axis=0)[keep].astype(float)
    m = m[keep].astype(float)
    n0 = m - n1
    n, big0, big1 = m.sum(), n0.sum(), n1.sum()
    if big0 * big1 == 0:
        return None
    return float(1.0 - (n - 1.0) * (2.0 * n0 * n1 / (m - 1.0)).sum() / (2.0 * big0 * big1))


# --- Krippendorff's unitizing alpha (uα) ----------------------------------------------------


def _sections(units: list[tuple[int, int]], begin: int, length: int) -> list[tuple[int, int, bool]]:
    """(begin, length, is_unit) covering [begin, begin+length): the coder's units and the gaps."""
    out, pos = [], begin
    for s, e in units:
        if s > pos:
            out.append((pos, s - pos, False))
        out.append((s, e - s, True))
        pos = e
    if pos < begin + length:
        out.append((pos, begin + length - pos, False))
    return out


def merge_spans(spans) -> list[tuple[int, int]]:
    """Sorted union of half-open spans (overlapping or touching spans become one)."""
    out: list[list[int]] = []
    for s, e in sorted((int(s), int(e)) for s, e in spans if e > s):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _distance(g, h) -> float:
    bg, lg, ug = g
    bh, lh, uh = h
    eg, eh = bg + lg, bh + lh
    if ug and uh:
        return float((bg - bh) ** 2 + (eg - eh) ** 2) if bg < eh and bh < eg else 0.0
    if ug and not uh:
        return float(lg * lg) if bh <= bg and eg <= eh else 0.0
    if uh and not ug:
        return float(lh * lh) if bg <= bh and eh <= eg else 0.0
    return 0.0


def unitizing_disagreement(units_by_coder: list[list[tuple[int, int]]], begin: int, length: int) -> tuple[float, float]:
    """(D_o, D_e) of one category for Krippendorff's uα (Krippendorff 2004, §12.4; DKPro's formulas).

    ``units_by_coder``: each coder's units of the category as half-open (start, end) spans
    inside [begin, begin+length); overlapping spans of one coder are merged first.
    """
    m, big_l = len(units_by_coder), float(length)
    merged = [merge_spans(u) for u in units_by_coder]
    sections = [_sections(u, begin, length) for u in merged]
    observed = 0.0
    for i in range(m):
        for j in range(m):
            if i == j:
                continue
            for g in sections[i]:
                for h in sections[j]:
                    if h[0] >= g[0] + g[1]:
                        break  # sections are sorted: nothing further right overlaps g
                    observed += _distance(g, h)
    d_o = observed / (m * (m - 1) * big_l * big_l)
    unit_lengths = [n for secs in sections for (_, n, u) in secs if u]
    gap_lengths = [n for secs in sections for (_, n, u) in secs if not u]
    n_c = len(unit_lengths)
    num = 0.0
    for lu in unit_lengths:
        num += (n_c - 1) * (2 * lu ** 3 - 3 * lu ** 2 + lu) / 3.0
        num += lu ** 2 * sum(lg - lu + 1 for lg in gap_lengths if lg >= lu)
    denom = m * big_l * (m * big_l - 1) - sum(lu * (lu - 1) for lu in unit_lengths)
    d_e = (2.0 / big_l) * num / denom if denom else 0.0
    return d_o, d_e


def unitized_alpha(categories: dict[str, list[list[tuple[int, int]]]], begin: int, length: int) -> dict:
    """uα per category and overall: ``{"categories": {c: {"d_o", "d_e", "alpha"}}, "alpha": x}``.

    Overall uα = 1 − mean D_o / mean D_e over the categories. Alpha is None where D_e is 0
    (nobody coded the category).
    """
    per, d_os, d_es = {}, [], []
    for name, units in categories.items():
        d_o, d_e = unitizing_disagreement(units, begin, length)
        per[name] = {"d_o": d_o, "d_e": d_e, "alpha": (1.0 - d_o / d_e) if d_e > 0 else None}
        d_os.append(d_o)
        d_es.append(d_e)
    mean_e = sum(d_es) / len(d_es) if d_es else 0.0
    overall = (1.0 - (sum(d_os) / len(d_os)) / mean_e) if mean_e > 0 else None
    return {"categories": per, "alpha": overall}
