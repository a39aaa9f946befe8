"""Each statistic against docs/methods.md (tags: P/P+V are published oracles, C is a
constructed regression fixture) and against small hand-computed cases."""
from __future__ import annotations

import pytest

from qualcode.reports.cooccurrence import bh, pair_statistics
from qualcode.reports.saturation import chao1, chao1_ci, chao2, expected_accumulation, francis_stop, guest_saturation

# methods.md §1.2 constructed fixture [C]: new themes per interview
NEW = [15, 8, 4, 3, 2, 1, 0, 1, 0, 0, 0, 0]


@pytest.mark.parametrize("base, run, threshold, base_codes, label", [
    (4, 2, 0.05, 30, "5+2"),
    (4, 2, 0.0, 30, "8+2"),
    (4, 3, 0.05, 30, "6+3"),
    (6, 2, 0.05, 33, "6+2"),
])
def test_guest_base_run_threshold_methods_fixture(base, run, threshold, base_codes, label):
    result = guest_saturation(NEW, base, run, threshold)
    assert (result.base_codes, result.label) == (base_codes, label)


def test_guest_checks_runs_in_order_with_fixed_denominator():
    runs = guest_saturation(NEW, 4, 2, 0.05).runs
    assert [(a, b, n) for a, b, n, _ in runs] == [(5, 6, 3), (6, 7, 1)]
    assert runs[0][3] == pytest.approx(0.100) and runs[1][3] == pytest.approx(0.0333, abs=1e-4)


def test_guest_edge_cases():
    assert guest_saturation([3, 2, 1, 0, 0], base=4, run=2).status == "not assessable"  # fewer than b + r
    assert guest_saturation([0, 0, 0, 0, 1, 0], base=4, run=2).status == "undefined"  # B = 0
    # exactly 5 % passes (ratio compared with <=): B = 20, one new code in the run
    assert guest_saturation([10, 5, 3, 2, 1, 0], base=4, run=2, threshold=0.05).label == "4+2"
    assert guest_saturation([10, 5, 3, 2, 2, 1], base=4, run=2, threshold=0.05).status == "not reached"


def test_francis_10_plus_3():
    new = [5, 3, 2, 2, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0]
    assert francis_stop(new) == 13  # 11, 12, 13 bring nothing new
    assert francis_stop(new[:12]) is None
    assert francis_stop([5, 3, 2, 2, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 0]) == 15
    assert francis_stop([1] * 3 + [0] * 5, initial=3, run=3) == 6  # parameters are configurable


@pytest.mark.parametrize("counts, bc, classic, ci", [
    # methods.md R14 [P]: scikit-bio test_chao1.py, "should match observed results from EstimateS"
    ([0, 1, 1, 4, 2, 5, 2, 4, 1, 2], 9.75, 10.5, (9.07, 17.45)),
    ([0, 2, 2, 4, 5, 0, 0, 0, 0, 0], 4, 4, (4, 4.95)),
    ([0, 1, 1, 4, 5, 0, 0, 0, 0, 0], 5, 5, (4.08, 17.27)),
])
def test_chao1_against_estimates_reference_values(counts, bc, classic, ci):
    assert chao1(counts) == pytest.approx(bc)
    assert chao1(counts, bias_corrected=False) == pytest.approx(classic)
    assert chao1_ci(counts) == pytest.approx(ci, rel=0.01)


# methods.md §1.6 constructed fixture [C]: 7 codes × 6 interviews
INCIDENCE = {"A": [1, 1, 1, 1, 1, 1], "B": [1, 1, 1, 0, 1, 0], "C": [1, 0, 0, 1, 0, 0], "D": [0, 1, 0, 0, 0, 1],
             "E": [1, 0, 0, 0, 0, 0], "F": [0, 0, 1, 0, 0, 0], "G": [0, 0, 0, 0, 1, 0]}


def test_chao2_and_coverage_methods_fixture():
    result = chao2([sum(v) for v in INCIDENCE.values()], interviews=6)
    assert (result.observed, result.singletons, result.doubletons, result.incidences) == (7, 3, 2, 17)
    assert result.classic == pytest.approx(8.875)
    assert result.bias_corrected == pytest.approx(7.8333, abs=1e-4)
    assert result.coverage == pytest.approx(0.86068, abs=1e-5)
    assert result.lower <= result.bias_corrected <= result.upper


def test_expected_accumulation_methods_fixture():
    curve = expected_accumulation([sum(v) for v in INCIDENCE.values()], 6)
    assert curve == pytest.approx([2.8333, 4.1333, 5.1, 5.8667, 6.5, 7.0], abs=1e-4)


def test_chao2_hand_computed_no_doubletons_and_nothing_unseen():
    # 5 codes, 4 in one interview only, none in two; T = 3 → 5 + (2/3)·4·3/(2·1) = 9
    result = chao2([3, 1, 1, 1, 1], 3)
    assert result.classic is None and result.bias_corrected == pytest.approx(9.0)
    assert chao2([2, 2, 3], 3).bias_corrected == 3  # no singletons: nothing unseen
    assert chao2([], 0).observed == 0


def test_atlas_c_coefficient_and_pair_statistics():
    # methods.md R12 [P+V]: 100 quotations with A, 10 with B, 5 co-occurrences → c = 5/105
    jaccard, lift, pmi, p = pair_statistics([100], [10], [5], 1000)
    assert jaccard[0] == pytest.approx(0.047619, abs=1e-6)
    # methods.md §2.3 constructed check [C] with N = 1000 units (scipy-computed values)
    assert lift[0] == pytest.approx(5.0)
    assert pmi[0] == pytest.approx(2.321928, abs=1e-6)
    assert p[0] == pytest.approx(0.0015214, rel=1e-4)


def test_pair_statistics_never_together():
    jaccard, lift, pmi, p = pair_statistics([3], [2], [0], 10)
    assert jaccard[0] == 0 and lift[0] == 0 and p[0] == 1.0
    assert pmi[0] != pmi[0]  # undefined (NaN) when n_ab = 0


def test_benjamini_hochberg_by_hand():
    # ranks 1..4 of 0.01, 0.03, 0.04, 0.5 → 0.04, 0.06, 0.0533, 0.5; then the running minimum from the top
    assert bh([0.01, 0.04, 0.03, 0.5]).tolist() == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_fisher_tail_matches_scipy_on_random_tables():
    """The one-sided Fisher p is computed without scipy.stats (start-up time); scipy is the oracle."""
    import random

    from scipy.stats import hypergeom

    from qualcode.reports.cooccurrence import hypergeom_upper_tail

    rng = random.Random(7)
    for _ in range(500):
        total = rng.randint(1, 3000)
        successes, draws = rng.randint(0, total), rng.randint(0, total)
        k = rng.randint(0, min(successes, draws) + 1)
        expected = float(hypergeom.sf(k - 1, total, successes, draws))
        assert hypergeom_upper_tail(k, total, successes, draws) == pytest.approx(expected, rel=1e-9, abs=1e-300)
