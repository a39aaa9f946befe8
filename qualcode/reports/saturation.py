"""Code saturation: new codes per interview, base/run/threshold, 10+3, Chao2 and coverage.

These measure *code* saturation only (Hennink, Kaiser & Marconi 2017): whether new codes
still appear, not whether their meaning is understood. Rules: ``docs/reports.md`` and
``docs/methods.md`` §1.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from qualcode.errors import QualcodeError
from qualcode.ingest.manifest import load_manifest
from qualcode.reports.selection import ReportData
from qualcode.store import schema as t

ORDERS = ("date", "manifest", "name", "import")
CURVE_COLUMNS = ["scope", "position", "document", "case", "date", "role", "codes", "new", "cumulative", "expected",
                 "new_codes"]
SUMMARY_COLUMNS = ["scope", "interviews", "codes_observed", "base", "run", "threshold", "base_codes", "guest",
                   "guest_interview", "francis", "francis_interview", "singletons", "doubletons", "chao2",
                   "chao2_bc", "chao2_lower", "chao2_upper", "coverage", "sentence", "sentence_zh", "estimate",
                   "order", "band", "band_median", "band_p05", "band_p95", "band_reached", "band_orders",
                   "chao2_note", "warning"]
ORDER_WORDS = {"date": "date order", "manifest": "manifest order", "name": "name order", "import": "import order"}
BAND_ORDERS, BAND_SEED = 1000, 20240601  # random interview orders for the sensitivity band; fixed seed


# ------------------------------------------------------------------ pure rules (tested on methods.md)

@dataclass(frozen=True)
class GuestResult:
    status: str  # reached | not reached | not assessable | undefined
    interview: int | None  # saturation declared at this interview (s - 1)
    base_codes: int  # B: unique codes in the base
    label: str  # "5+2", or the status
    runs: tuple[tuple[int, int, int, float], ...] = ()  # (from, to, new, ratio) checked in order


def guest_saturation(new: list[int], base: int = 4, run: int = 2, threshold: float = 0.05) -> GuestResult:
    """Guest, Namey & Chen (2020): the first run s..s+r-1 (s > b) whose new codes / B ≤ τ
    declares saturation at interview s-1, reported as "(s-1)+r"; B = new codes in the base."""
    n = len(new)
    if n < base + run:
        return GuestResult("not assessable", None, sum(new[:base]), "not assessable")
    b_codes = sum(new[:base])
    if b_codes == 0:
        return GuestResult("undefined", None, 0, "undefined (no codes in the base)")
    runs = []
    for s in range(base + 1, n - run + 2):  # 1-based interview numbers
        window = sum(new[s - 1:s - 1 + run])
        ratio = window / b_codes
        runs.append((s, s + run - 1, window, ratio))
        if ratio <= threshold + 1e-12:
            return GuestResult("reached", s - 1, b_codes, f"{s - 1}+{run}", tuple(runs))
    return GuestResult("not reached", None, b_codes, "not reached", tuple(runs))


def francis_stop(new: list[int], initial: int = 10, run: int = 3) -> int | None:
    """Francis et al. (2010): after an initial sample of ``initial`` interviews, the first
    interview n ≥ initial + run ending ``run`` consecutive interviews without new codes."""
    for n in range(initial + run, len(new) + 1):
        if all(x == 0 for x in new[n - run:n]):
            return n
    return None


def chao1(counts, bias_corrected: bool = True) -> float:
    """Chao1 richness from abundances (Chao 1984): classic S + f1²/(2 f2) when asked and f2 > 0,
    else bias-corrected S + f1(f1-1)/(2(f2+1))."""
    counts = [c for c in counts if c > 0]
    s, f1, f2 = len(counts), sum(c == 1 for c in counts), sum(c == 2 for c in counts)
    if not bias_corrected and f1 and f2:
        return s + f1 * f1 / (2 * f2)
    return s + f1 * (f1 - 1) / (2 * (f2 + 1))


def _log_normal_ci(estimate: float, observed: int, var: float, z: float) -> tuple[float, float]:
    """EstimateS Eq. 13: log-normal interval around the unseen part T = estimate - observed."""
    t = estimate - observed
    if t <= 0:
        return float(observed), float(observed)
    k = math.exp(abs(z) * math.sqrt(math.log(1 + var / (t * t))))
    return observed + t / k, observed + t * k


def _ci_no_singletons(n: float, s: int, z: float) -> tuple[float, float]:
    """EstimateS Eq. 14 (no singletons)."""
    if s == 0:
        return 0.0, 0.0
    p = math.exp(-n / s)
    spread = z * math.sqrt(s * p / (1 - p))
    return max(s, s / (1 - p) - spread), s / (1 - p) + spread


def chao1_ci(counts, z: float = 1.96) -> tuple[float, float]:
    """95 % interval of the bias-corrected Chao1 (EstimateS Eq. 6/7/8, 13, 14)."""
    counts = [c for c in counts if c > 0]
    s, f1, f2 = len(counts), sum(c == 1 for c in counts), sum(c == 2 for c in counts)
    if not f1:
        return _ci_no_singletons(sum(counts), s, z)
    est = chao1(counts)
    if not f2:
        var = f1 * (f1 - 1) / 2 + f1 * (2 * f1 - 1) ** 2 / 4 - f1 ** 4 / (4 * est)
    else:
        var = (f1 * (f1 - 1) / (2 * (f2 + 1)) + f1 * (2 * f1 - 1) ** 2 / (4 * (f2 + 1) ** 2)
               + f1 ** 2 * f2 * (f1 - 1) ** 2 / (4 * (f2 + 1) ** 4))
    return _log_normal_ci(est, s, var, z)


@dataclass(frozen=True)
class Chao2:
    observed: int
    interviews: int
    singletons: int  # Q1: codes in exactly one interview
    doubletons: int  # Q2: codes in exactly two
    incidences: int  # U = Σ Y_k
    classic: float | None  # S + ((T-1)/T) Q1²/(2 Q2), None when Q2 = 0
    bias_corrected: float  # S + ((T-1)/T) Q1(Q1-1)/(2(Q2+1))
    lower: float
    upper: float
    coverage: float | None  # Chao et al. 2014 incidence coverage


def chao2(incidence_counts, interviews: int, z: float = 1.96) -> Chao2:
    """Chao2 from Y_k (interviews containing code k) over T interviews, with the EstimateS
    log-normal 95 % interval (Eq. 6/7 variance with the (T-1)/T factor, Eq. 13; Eq. 14 with
    U for n when there are no singletons) and sample coverage."""
    y = [int(c) for c in incidence_counts if c > 0]
    s, q1, q2, u, t = len(y), sum(c == 1 for c in y), sum(c == 2 for c in y), sum(y), interviews
    a = (t - 1) / t if t else 0.0
    classic = s + a * q1 * q1 / (2 * q2) if q2 else None
    bc = s + a * q1 * (q1 - 1) / (2 * (q2 + 1))
    if not q1:
        lower, upper = _ci_no_singletons(u, s, z)
    else:
        if q2:
            var = (a * q1 * (q1 - 1) / (2 * (q2 + 1)) + a * a * q1 * (2 * q1 - 1) ** 2 / (4 * (q2 + 1) ** 2)
                   + a * a * q1 ** 2 * q2 * (q1 - 1) ** 2 / (4 * (q2 + 1) ** 4))
        else:
            var = (a * q1 * (q1 - 1) / 2 + a * a * q1 * (2 * q1 - 1) ** 2 / 4 - a * a * q1 ** 4 / (4 * bc))
        lower, upper = _log_normal_ci(bc, s, max(var, 0.0), z)
    coverage = None
    if u:
        denom = (t - 1) * q1 + 2 * q2
        coverage = 1 - (q1 / u) * ((t - 1) * q1 / denom) if denom else 1.0
    return Chao2(s, t, q1, q2, u, classic, bc, lower, upper, coverage)


def expected_accumulation(incidence_counts, interviews: int) -> list[float]:
    """E[S(t)] = Σ_k [1 - C(T-Y_k, t)/C(T, t)], t = 1..T (Colwell, Mao & Chang 2004): the
    accumulation curve averaged over every interview order."""
    import numpy as np

    y = np.asarray([c for c in incidence_counts if c > 0], dtype=np.int64)
    t_all = np.arange(1, interviews + 1, dtype=np.int64)
    if not len(y):
        return [0.0] * interviews
    T = interviews
    # log n! for n = 0..T as a table: every argument is an integer in that range (and
    # scipy.special is not imported for it)
    log_fact = np.array([math.lgamma(n + 1) for n in range(T + 1)])
    rest = T - y[:, None]
    t = t_all[None, :]
    log_ratio = (log_fact[rest] - log_fact[np.clip(rest - t, 0, None)] - log_fact[T] + log_fact[T - t])
    ratio = np.where(rest >= t, np.exp(log_ratio), 0.0)
    return (1 - ratio).sum(axis=0).tolist()


# ------------------------------------------------------------------ order and tables

def interview_order(data: ReportData, order: str = "date", date_key: str = "date",
                    manifest: Path | None = None):
    """Documents in scope sorted for saturation: by the ``date`` attribute (undated last),
    manifest row, name or import order; ties are broken by document name, then id."""
    docs = data.documents.copy()
    if order not in ORDERS:
        raise QualcodeError(f"unknown order {order!r}", hint="use one of: " + ", ".join(ORDERS))
    if order == "date":
        dates = docs[date_key] if date_key in docs.columns else docs["document"].map(lambda _: "")
        docs["_key0"] = (dates == "").astype(int)
        docs["_key1"] = dates
    elif order == "manifest":
        docs["_key1"] = 0
        docs["_key0"] = _manifest_positions(data, docs, manifest)
    elif order == "name":
        docs["_key0"], docs["_key1"] = 0, ""
    else:
        docs["_key0"], docs["_key1"] = docs["doc_id"], ""
    docs = docs.sort_values(["_key0", "_key1", "document", "doc_id"], kind="stable")
    return docs.drop(columns=["_key0", "_key1"]).reset_index(drop=True)


def _manifest_positions(data: ReportData, docs, manifest: Path | None):
    """Row of each document in the manifest (matched on relative path, file name or stem)."""


    if manifest is None:
        raise QualcodeError("ordering by manifest needs the manifest file", hint="pass --manifest FILE")
    man = load_manifest(Path(manifest))
    first: dict[str, int] = {}
    for row in man.rows:
        first.setdefault(row.file.replace("\\", "/"), row.row)
    assert data.store is not None, "ordering by manifest needs report data loaded from a project"
    with data.store.read() as conn:
        paths = dict(conn.execute(select(t.documents.c.id, t.documents.c.source_path)).all())
    base = Path(manifest).resolve().parent
    out = []
    for doc_id in docs["doc_id"]:
        p = Path(paths.get(doc_id, ""))
        try:
            rel = Path(os.path.relpath(p, base)).as_posix()
        except ValueError:
            rel = p.as_posix()
        pos = next((first[key] for key in (rel, p.name, p.stem) if key in first), None)
        out.append(pos if pos is not None else 10**9)
    return out


def _codes_by_document(data: ReportData, level: int | None) -> dict[int, list[str]]:
    """doc_id → the distinct codes coded in it (rolled up to ``level``), sorted."""
    k = data.expanded(level=level, rollup=level is not None)
    found: dict[int, set[str]] = {}
    for doc_id, code in zip(k["doc_id"].tolist(), k["code"].tolist()):
        found.setdefault(doc_id, set()).add(code)
    return {doc_id: sorted(codes) for doc_id, codes in found.items()}


def leaf_codes(codes_of: dict[int, list[str]], doc_ids) -> dict[int, list[str]]:
    """``codes_of`` for ``doc_ids`` without the parent codes of which a sub-code occurs in any
    of them: a parent is then not a code of its own (``--leaf-only``)."""
    seen = {c for d in doc_ids for c in codes_of.get(d, [])}
    shadowed = {c for c in seen if any(other.startswith(c + "/") for other in seen)}
    return {d: [c for c in codes_of.get(d, []) if c not in shadowed] for d in doc_ids}


def order_band(code_sets: list[list[str]], base: int, run: int, threshold: float, orders: int = BAND_ORDERS,
               seed: int = BAND_SEED) -> dict:
    """How the Guest point moves with interview order: the Guest rule applied to ``orders``
    seeded random permutations of the interviews. Returns the median and the 5 % and 95 %
    order statistics of the saturation interview (an order that never saturates counts as
    later than any, so a percentile in that region is "not reached"), the share of orders
    that reach saturation and the number of orders."""
    import numpy as np

    T = len(code_sets)
    empty = dict(median="", p05="", p95="", reached="", orders=0)
    if orders < 1 or T < base + run:
        return empty
    codes = sorted({c for cs in code_sets for c in cs})
    index = {c: j for j, c in enumerate(codes)}
    M = np.zeros((T, max(len(codes), 1)), dtype=bool)
    for i, cs in enumerate(code_sets):
        M[i, [index[c] for c in cs]] = True
    rng = np.random.default_rng(seed)
    points = np.empty(orders)
    for n in range(orders):
        perm = rng.permutation(T)
        seen = M[perm]
        first = np.where(seen.any(axis=0), seen.argmax(axis=0), T)
        new = np.bincount(first[first < T], minlength=T).tolist()
        g = guest_saturation(new, base, run, threshold)
        points[n] = g.interview if g.status == "reached" else np.inf

    def stat(q: float):
        v = float(np.percentile(points, q, method="inverted_cdf"))
        return int(v) if np.isfinite(v) else "not reached"

    return dict(median=stat(50), p05=stat(5), p95=stat(95), reached=round(float(np.isfinite(points).mean()), 4),
                orders=orders)


def _scope_tables(scope: str, interviews: list[tuple], codes_of: dict[int, list[str]], base, run, threshold,
                  initial, stop, z, order: str = "date", band_orders: int = BAND_ORDERS, warning: str = ""):
    """Curve rows and one summary row for one scope (overall or a case); ``interviews`` are
    (doc_id, document, case, date, role) in interview order.

    Plain Python over each interview's distinct codes: this runs once per case, and pandas
    group-bys per case cost more than the whole computation."""
    T = len(interviews)
    seen: dict[str, int] = {}  # code → interviews containing it so far
    per_doc, new_codes = [], []
    for doc_id, *_ in interviews:
        codes = codes_of.get(doc_id, [])
        per_doc.append(len(codes))
        new_codes.append([c for c in codes if c not in seen])  # sorted, as codes are
        for c in codes:
            seen[c] = seen.get(c, 0) + 1
    new = [len(fresh) for fresh in new_codes]
    incid = [seen[c] for c in sorted(seen)]  # in code order: the expected curve sums over codes in this order
    expected = expected_accumulation(incid, T)
    rows = []
    cumulative = 0
    for i, (_, document, case, date, role) in enumerate(interviews):
        cumulative += new[i]
        rows.append(dict(scope=scope, position=i + 1, document=document, case=case, date=date, role=role,
                         codes=per_doc[i], new=new[i], cumulative=cumulative, expected=round(expected[i], 4),
                         new_codes="; ".join(new_codes[i])))
    g = guest_saturation(new, base, run, threshold)
    f = francis_stop(new, initial, stop)
    est = chao2(incid, T, z)
    band = order_band([codes_of.get(doc_id, []) for doc_id, *_ in interviews], base, run, threshold, band_orders)
    degenerate = est.singletons > 0 and est.bias_corrected - est.observed <= 0
    chao2_note = (f"Q1 = {est.singletons}, Q2 = {est.doubletons}: the bias-corrected Chao2 estimates no unseen "
                  "codes, so it has no interval" if degenerate else "")
    summary = dict(
        scope=scope, interviews=T, codes_observed=est.observed, base=base, run=run, threshold=threshold,
        base_codes=g.base_codes, guest=g.label, guest_interview=g.interview if g.interview is not None else "",
        francis=("met" if f else ("not assessable" if T < initial + stop else "not met")),
        francis_interview=f if f else "", singletons=est.singletons, doubletons=est.doubletons,
        chao2=round(est.classic, 4) if est.classic is not None else "", chao2_bc=round(est.bias_corrected, 4),
        chao2_lower="" if degenerate else round(est.lower, 4), chao2_upper="" if degenerate else round(est.upper, 4),
        coverage=round(est.coverage, 4) if est.coverage is not None else "",
        sentence=saturation_sentence(g, T, base, run, threshold, order),
        sentence_zh=saturation_sentence_zh(g, T, base, run, threshold, order),
        estimate=estimate_sentence(est),
        order=order, band=band_sentence(band), band_median=band["median"], band_p05=band["p05"],
        band_p95=band["p95"], band_reached=band["reached"], band_orders=band["orders"], chao2_note=chao2_note,
        warning=warning,
    )
    return rows, summary


def _pct(threshold: float) -> str:
    return f"{threshold * 100:g}%"


def band_sentence(band: dict) -> str:
    """e.g. "over 1000 random interview orders the Guest point falls at interview 7 (median),
    5–95 %: 4–11; 98 % of orders reach saturation"."""
    if not band["orders"]:
        return ""
    return (f"over {band['orders']} random interview orders the saturation interview has median {band['median']}, "
            f"5–95 %: {band['p05']}–{band['p95']}; {band['reached']:.0%} of orders reach saturation")


def saturation_sentence(g: GuestResult, n: int, base: int, run: int, threshold: float, order: str = "") -> str:
    """The sentence a researcher pastes, e.g. "Saturation was reached at interview 9 of 14
    (base 4, run 2, threshold 5%; interviews in date order)."."""
    params = f"(base {base}, run {run}, threshold {_pct(threshold)}" + (
        f"; interviews in {ORDER_WORDS.get(order, order)})" if order else ")")
    if g.status == "reached":
        return f"Saturation was reached at interview {g.interview} of {n} {params}."
    if g.status == "not reached":
        return f"Saturation was not reached within {n} interviews {params}."
    if g.status == "undefined":
        return f"Saturation could not be assessed: no codes in the first {base} interviews {params}."
    return f"Saturation could not be assessed: {n} interviews, fewer than base + run = {base + run} {params}."


def saturation_sentence_zh(g: GuestResult, n: int, base: int, run: int, threshold: float, order: str = "") -> str:
    order_zh = {"date": "按访谈日期排序", "manifest": "按清单顺序排序", "name": "按文件名排序", "import": "按导入顺序排序"}
    params = f"（基础样本{base}次，连续{run}次，新信息阈值{_pct(threshold)}" + (
        f"；{order_zh.get(order, order)}）" if order else "）")
    if g.status == "reached":
        return f"第{g.interview}次访谈（共{n}次）达到编码饱和{params}。"
    if g.status == "not reached":
        return f"{n}次访谈内未达到编码饱和{params}。"
    if g.status == "undefined":
        return f"无法评估饱和：前{base}次访谈没有编码{params}。"
    return f"无法评估饱和：仅{n}次访谈，少于基础样本与连续次数之和{base + run}{params}。"


def estimate_sentence(c: Chao2) -> str:
    cov = f", sample coverage {c.coverage:.2f}" if c.coverage is not None else ""
    if c.singletons and c.bias_corrected - c.observed <= 0:  # Q1 = 1 (any Q2): Q1(Q1-1) = 0, nothing unseen
        return (f"{c.observed} codes observed in {c.interviews} interviews; with Q1 = {c.singletons} and "
                f"Q2 = {c.doubletons} the bias-corrected Chao2 estimates no unseen codes (no interval){cov}.")
    return (f"{c.observed} codes observed in {c.interviews} interviews; Chao2 (bias-corrected) estimates "
            f"{c.bias_corrected:.1f} codes in total (95% CI {c.lower:.1f}–{c.upper:.1f}){cov}.")


def saturation(data: ReportData, order: str = "date", base: int = 4, run: int = 2, threshold: float = 0.05,
               initial: int = 10, stop: int = 3, level: int | None = None, by_case: bool = True,
               date_key: str = "date", manifest: Path | None = None, z: float = 1.96, leaf_only: bool = False,
               band_orders: int = BAND_ORDERS):
    """(curve, summary) DataFrames for the whole selection ("overall") and, with ``by_case``,
    each case. ``level``: count codes rolled up to that depth (0 = stages); default: codes
    as coded. Codes are counted per interview (incidence), never per segment.

    ``leaf_only``: a parent code of which a sub-code occurs in the scope is not a code of
    its own. The summary states the ``order`` used, the order-sensitivity band (Guest rule
    over ``band_orders`` seeded random orders), a ``warning`` when unreviewed proposals are
    counted, and ``chao2_note`` instead of a collapsed interval."""
    import pandas as pd

    if threshold < 0 or base < 1 or run < 1:
        raise QualcodeError("saturation needs base ≥ 1, run ≥ 1 and threshold ≥ 0")
    ordered = interview_order(data, order, date_key, manifest)
    blank = [""] * len(ordered)
    interviews = list(zip(ordered["doc_id"].tolist(), ordered["document"].tolist(), ordered["case"].tolist(),
                          *(ordered[key].tolist() if key in ordered.columns else blank for key in ("date", "role"))))
    scopes = [("overall", interviews)]
    if by_case:
        for case in sorted(c for c in ordered["case"].unique() if c):
            scopes.append((case, [row for row in interviews if row[2] == case]))
    codes_of = _codes_by_document(data, level)
    proposals = int((data.codings["status"] == "proposed").sum())
    warning = (f"counts include {proposals} unreviewed proposals of {len(data.codings)} codings: review them "
               "before citing saturation" if proposals else "")
    curves, summaries = [], []
    for scope, scope_interviews in scopes:
        scope_codes = leaf_codes(codes_of, [row[0] for row in scope_interviews]) if leaf_only else codes_of
        rows, summary = _scope_tables(scope, scope_interviews, scope_codes, base, run, threshold, initial, stop, z,
                                      order, band_orders, warning)
        curves.extend(rows)
        summaries.append(summary)
    return pd.DataFrame(curves, columns=CURVE_COLUMNS), pd.DataFrame(summaries, columns=SUMMARY_COLUMNS)
