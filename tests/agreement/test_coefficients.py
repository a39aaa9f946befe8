"""Agreement coefficients against the published references in docs/methods.md
(R1–R3, R5–R7, R9–R11); R11 and R13 through a project are in test_compare.py."""
from __future__ import annotations

import numpy as np
import pytest

from qualcode.agreement.coefficients import (
    binary_alpha,
    binary_alpha_bootstrap,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    pairable_units,
    percent_agreement,
    unitized_alpha,
    unitizing_disagreement,
)

nan = np.nan

# ------------------------------------------------------------------ published reference data

# R1: Krippendorff 2004 p.230 / 2011, 4 observers × 12 units, missing as nan [P+V]
R1 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
])
# R2: Krippendorff 2004 p.224 (= ATLAS.ti manual), binary 2 × 10 [P+V]
R2 = np.array([[1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 0, 1, 0, 1, 0, 0]], dtype=float)
# R3: Krippendorff 2004 p.227, a/b/c as 0/1/2, 2 × 12 [P+V]
R3 = np.array([[0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2], [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]], dtype=float)
# R5: Hayes & Krippendorff 2007 p.84, 40 units (rows) × 5 observers, ordinal 0–3 [P+V]
R5_TEXT = """
1 1 2 . 2|1 1 0 1 .|2 3 3 3 .|. 0 0 . 0|0 0 0 . 0|0 0 0 . 0|1 0 2 . 1|1 . 2 0 .|2 2 2 . 2|2 1 1 1 .
. 1 0 0 .|0 0 0 0 .|1 2 2 2 .|3 3 2 2 3|1 1 1 . 1|1 1 1 . 1|2 1 2 . 2|1 2 3 3 .|1 1 0 1 .|0 0 0 . 0
0 0 1 1 .|0 0 . 0 0|2 3 3 3 .|0 0 0 0 .|1 2 . 2 2|0 1 1 1 .|0 0 0 1 0|1 2 1 2 .|1 1 2 2 .|1 1 2 . 2
1 1 0 . 0|2 1 2 1 .|2 2 . 2 2|3 2 2 2 .|2 2 2 . 2|2 2 3 . 2|2 2 2 . 2|2 2 . 1 2|2 2 2 2 .|1 1 1 . 1
"""


def _r5() -> np.ndarray:
    units = [u for line in R5_TEXT.split() for u in line.split("|")] if False else \
        [u for line in R5_TEXT.strip().splitlines() for u in line.split("|")]
    rows = [[nan if v == "." else float(v) for v in u.split()] for u in units]
    assert len(rows) == 40
    return np.array(rows).T  # coders × units


def _pairs(table) -> tuple[list[int], list[int]]:
    """Two coders' label lists from a contingency table (rows coder A, columns coder B)."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, n in enumerate(row):
            a += [i] * n
            b += [j] * n
    return a, b


def test_r1_krippendorff_alpha_all_levels_with_missing_values():
    assert krippendorff_alpha(R1, "nominal") == pytest.approx(0.7434210526, abs=1e-6)
    assert krippendorff_alpha(R1, "ordinal") == pytest.approx(0.8153875, abs=1e-6)
    assert krippendorff_alpha(R1, "interval") == pytest.approx(0.8491071, abs=1e-6)
    assert krippendorff_alpha(R1, "ratio") == pytest.approx(0.7974028, abs=1e-6)
    assert percent_agreement(R1) == pytest.approx(0.800, abs=1e-9)  # DKPro's pairwise definition
    assert pairable_units(R1) == 11  # unit 12 has one value and is dropped


def test_r2_binary_example_alpha_kappa_percent():
    assert percent_agreement(R2) == pytest.approx(0.600)
    assert krippendorff_alpha(R2) == pytest.approx(0.0952381, abs=1e-6)
    assert binary_alpha(R2) == pytest.approx(0.0952381, abs=1e-6)  # the bootstrap's closed form agrees
    assert cohen_kappa(R2[0], R2[1]) == pytest.approx(0.0909, abs=1e-4)


def test_r3_nominal_three_categories():
    assert percent_agreement(R3) == pytest.approx(0.8333, abs=1e-4)
    assert krippendorff_alpha(R3) == pytest.approx(0.7341040, abs=1e-6)
    assert cohen_kappa(R3[0], R3[1]) == pytest.approx(0.7241, abs=1e-4)


def test_r5_hayes_krippendorff_five_observers():
    data = _r5()
    assert krippendorff_alpha(data, "ordinal") == pytest.approx(0.7598, abs=1e-4)
    assert krippendorff_alpha(data, "nominal") == pytest.approx(0.4765, abs=1e-4)


def test_r6_cohen_1960_tables():
    a, b = _pairs([[25, 12, 3], [13, 2, 15], [12, 16, 2]])
    assert cohen_kappa(a, b) == pytest.approx(-0.0923, abs=1e-4)
    a, b = _pairs([[88, 14, 18], [10, 40, 10], [2, 6, 12]])
    assert cohen_kappa(a, b) == pytest.approx(0.4915, abs=1e-4)


def test_r7_artstein_poesio_tables():
    a, b = _pairs([[20, 10], [20, 50]])
    assert cohen_kappa(a, b) == pytest.approx(0.348, abs=1e-3)
    a, b = _pairs([[46, 0, 0], [6, 32, 6], [0, 0, 10]])
    assert cohen_kappa(a, b) == pytest.approx(0.8013, abs=1e-4)
    assert krippendorff_alpha(np.array([a, b], dtype=float)) == pytest.approx(0.800, abs=1e-3)


def test_r9_fleiss_kappa_wikipedia_table():
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    assert fleiss_kappa(table) == pytest.approx(0.210, abs=1e-3)


def test_r10_weighted_kappa():
    y1 = [0] * 46 + [1] * 44 + [2] * 10
    y2 = [0] * 50 + [1] * 40 + [2] * 10
    assert cohen_kappa(y1, y2) == pytest.approx(0.9315, abs=1e-4)
    assert cohen_kappa(y1, y2, weights="linear") == pytest.approx(0.9412, abs=1e-4)
    assert cohen_kappa(y1, y2, weights="quadratic") == pytest.approx(0.9541, abs=1e-4)


R11_I = {"c": [(225, 295), (370, 400)], "k": [(180, 240), (300, 350)]}
R11_J = {"c": [(220, 300), (355, 375), (400, 420)], "k": [(180, 240), (300, 350)]}


def test_r11_unitizing_alpha_krippendorff_2004_p254():
    d_o, _ = unitizing_disagreement([[(1, 9), (13, 19)], [(3, 7), (14, 16)]], 0, 24)
    assert d_o == pytest.approx(0.03125)  # Krippendorff 1995, Bertha/Bill, category A
    result = unitized_alpha({c: [R11_I[c], R11_J[c]] for c in "ck"}, 150, 300)
    c, k = result["categories"]["c"], result["categories"]["k"]
    assert c["d_o"] == pytest.approx(0.0144, abs=1e-4)
    assert c["d_e"] == pytest.approx(0.0532, abs=1e-4)
    assert c["alpha"] == pytest.approx(0.7286, abs=1e-4)
    assert k["d_o"] == 0 and k["d_e"] == pytest.approx(0.0490, abs=1e-4) and k["alpha"] == 1.0
    assert result["alpha"] == pytest.approx(0.8591, abs=5e-4)  # published; DKPro's tolerance


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate():
    data = np.tile(R3 == 1, 3).astype(float)  # binary, 36 units
    ci = binary_alpha_bootstrap(data, n_boot=500, seed=7)
    assert ci == binary_alpha_bootstrap(data, n_boot=500, seed=7)
    assert ci != binary_alpha_bootstrap(data, n_boot=500, seed=8)
    assert ci[0] < krippendorff_alpha(data) < ci[1]
