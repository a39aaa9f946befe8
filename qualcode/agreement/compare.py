"""Inter-coder agreement: how far independent coders agree, per code and per exclusive group.

Data
    A coder's codings are the rows with ``coder == NAME`` and ``status == 'accepted'``: their
    manual codings and the proposals they accepted (a decision stamps the deciding coder on
    the row, see ``annotate.decide``). A code counts as present in a unit when the coder
    applied it, or one of its descendants, to a span overlapping the unit.

Who saw what
    A document was seen by a coder when it is assigned to them (``qualcode assign``) or they
    have any coding or decision in it (accepted or rejected). Units of a document a coder
    never saw are *missing* for that coder, not "absent": they lower no coefficient, and each
    figure reports how many units it rests on (units with at least two coders' values).

Coefficients (maintained implementations; checked against docs/methods.md)
    per code (binary present/absent per unit): pairwise percent agreement, Cohen's kappa
    (exactly two coders; scikit-learn), Krippendorff's alpha (nominal, any number of coders,
    missing allowed; the ``krippendorff`` package) with a seeded percentile-bootstrap interval
    over units; per exclusive group (a parent declared ``exclusive``): nominal alpha and
    Fleiss' kappa (statsmodels; units every coder coded) over the children; at ``unit='char'``
    Krippendorff's unitizing alpha (uα) over the characters of the documents all coders saw,
    with character-level percent agreement and kappa (NVivo's coding comparison).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import delete, insert, select

from qualcode.errors import ConfigError
from qualcode.store import schema as t, utcnow

UNITS = ("passage", "sentence", "document", "char")
N_BOOT = 1000
SEED = 20240601
CI_LEVEL = 0.95
NONE = "(none)"


# ----------------------------------------------------------------------------- coefficients


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
    import warnings

    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _finite(cohen_kappa_score(a, b, weights=weights, sample_weight=sample_weight, labels=labels))


def fleiss_kappa(table) -> float | None:
    """Fleiss' kappa of a subjects × categories count table (statsmodels); None when undefined."""
    import warnings

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


# ----------------------------------------------------------------------------- project data


@dataclass
class CodeAgreement:
    code: str
    units: int
    percent: float | None
    kappa: float | None
    alpha: float | None
    alpha_ci: list[float] | None
    coded: dict[str, int] = field(default_factory=dict)  # units (or characters) each coder coded

    def to_dict(self) -> dict:
        return {"units": self.units, "percent": _r(self.percent), "kappa": _r(self.kappa), "alpha": _r(self.alpha),
                "alpha_ci": [_r(x) for x in self.alpha_ci] if self.alpha_ci else None, "coded": self.coded}


@dataclass
class GroupAgreement:
    group: str
    values: list[str]
    units: int
    alpha: float | None
    fleiss_kappa: float | None
    fleiss_units: int
    multiple: int  # coder-unit pairs with more than one child coded (left out as missing)

    def to_dict(self) -> dict:
        return {"units": self.units, "alpha": _r(self.alpha), "fleiss_kappa": _r(self.fleiss_kappa),
                "fleiss_units": self.fleiss_units, "values": self.values, "multiple": self.multiple}


@dataclass
class AgreementReport:
    unit: str
    coders: list[str]
    documents: dict[str, int]  # documents each coder saw
    codes: dict[str, CodeAgreement]
    groups: dict[str, GroupAgreement]
    none_as_value: bool = False
    n_boot: int = N_BOOT
    seed: int = SEED
    common_documents: int = 0  # documents every coder saw (the continuum at unit=char)

    def to_dict(self) -> dict:
        return {
            "unit": self.unit,
            "coders": self.coders,
            "codes": {k: v.to_dict() for k, v in self.codes.items()},
            "groups": {k: v.to_dict() for k, v in self.groups.items()},
            "documents": self.documents,
            "common_documents": self.common_documents,
            "none_as_value": self.none_as_value,
            "bootstrap": {"resamples": self.n_boot, "seed": self.seed, "level": CI_LEVEL},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=False)

    CODE_COLUMNS = ["code", "units", "percent", "kappa", "alpha", "alpha_ci"]
    GROUP_COLUMNS = ["group", "units", "alpha", "fleiss_kappa", "fleiss_units", "values"]

    def code_rows(self) -> list[dict]:
        return [{"code": k, **v.to_dict()} for k, v in self.codes.items()]

    def group_rows(self) -> list[dict]:
        return [{"group": k, **v.to_dict()} for k, v in self.groups.items()]


def _r(x: float | None, places: int = 4) -> float | None:
    return None if x is None else round(float(x), places)


def assign(store, doc_ids: list[int], coder: str, remove: bool = False) -> int:
    """Assign documents to a coder (or remove the assignment); returns how many changed."""
    a = t.assignments
    changed = 0
    with store.transaction() as conn:
        have = {d for (d,) in conn.execute(select(a.c.document_id).where(a.c.coder == coder))}
        if remove:
            gone = [d for d in doc_ids if d in have]
            if gone:
                conn.execute(delete(a).where(a.c.coder == coder, a.c.document_id.in_(gone)))
            return len(gone)
        new = sorted({d for d in doc_ids if d not in have})
        if new:
            now = utcnow()
            conn.execute(insert(a), [{"document_id": d, "coder": coder, "assigned_at": now} for d in new])
            changed = len(new)
    return changed


def assignments(store) -> list[dict]:
    """Assignment rows (document id and name, coder), ordered."""
    a, d = t.assignments, t.documents
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(a.c.document_id.label("document"), d.c.name, a.c.coder, a.c.assigned_at)
            .join(d, d.c.id == a.c.document_id).order_by(a.c.coder, a.c.document_id))]


def seen_documents(store, coders: list[str]) -> dict[str, set[int]]:
    """Per coder: documents assigned to them or in which they coded or decided anything."""
    seen: dict[str, set[int]] = {c: set() for c in coders}
    with store.read() as conn:
        for doc, coder in conn.execute(select(t.assignments.c.document_id, t.assignments.c.coder)
                                       .where(t.assignments.c.coder.in_(coders))):
            seen[coder].add(doc)
        for doc, coder in conn.execute(select(t.codings.c.document_id, t.codings.c.coder).distinct()
                                       .where(t.codings.c.coder.in_(coders), t.codings.c.status != "proposed")):
            seen[coder].add(doc)
    return seen


def _coder_spans(store, coders: list[str]) -> dict[str, dict[int, list[tuple[int, int, str]]]]:
    """coder → document → [(start, end, code)] of the coder's accepted codings."""
    k = t.codings
    out: dict[str, dict[int, list]] = {c: {} for c in coders}
    with store.read() as conn:
        for coder, doc, start, end, code in conn.execute(
            select(k.c.coder, k.c.document_id, k.c.start, k.c.end, k.c.code)
            .where(k.c.coder.in_(coders), k.c.status == "accepted").order_by(k.c.id)
        ):
            out[coder].setdefault(doc, []).append((start, end, code))
    return out


def _units(store, unit: str, doc_ids: list[int]) -> list[tuple[int, str, int, int]]:
    """(document id, label, start, end) of every unit of the given documents, in order."""
    d, p, s = t.documents, t.passages, t.sentences
    with store.read() as conn:
        if unit == "document":
            q = select(d.c.id, d.c.n_chars).where(d.c.id.in_(doc_ids)).order_by(d.c.id)
            return [(i, str(i), 0, n) for i, n in conn.execute(q)]
        if unit == "passage":
            q = select(p.c.document_id, p.c.seq, p.c.start, p.c.end).where(p.c.document_id.in_(doc_ids)).order_by(p.c.document_id, p.c.seq)
            return [(doc, f"{doc}:{seq}", a, b) for doc, seq, a, b in conn.execute(q)]
        q = (select(p.c.document_id, p.c.seq, s.c.seq.label("sseq"), s.c.start, s.c.end)
             .join(p, p.c.id == s.c.passage_id).where(p.c.document_id.in_(doc_ids))
             .order_by(p.c.document_id, p.c.seq, s.c.seq))
        return [(doc, f"{doc}:{pseq}.{sseq}", a, b) for doc, pseq, sseq, a, b in conn.execute(q)]


def _under(code: str, path: str) -> bool:
    return code == path or code.startswith(path + "/")


def _known_codes(store, codebook) -> list[str]:
    with store.read() as conn:
        used = {c for (c,) in conn.execute(select(t.codings.c.code).distinct())}
    order = [c.path for c in codebook.codes] if codebook is not None else []
    return order + sorted(used - set(order))


def _resolve_codes(store, codebook, coders, spans, codes: list[str] | None) -> list[str]:
    known = _known_codes(store, codebook)
    if codes:
        from qualcode.project import not_found

        for c in codes:
            if not any(_under(k, c) for k in known):
                raise not_found("code", c, known)
        return list(dict.fromkeys(codes))
    used = {code for per_doc in spans.values() for rows in per_doc.values() for (_, _, code) in rows}
    return [c for c in known if c in used]


def _groups(codebook, codes: list[str] | None) -> dict[str, list[str]]:
    if codebook is None:
        return {}
    out = {}
    for c in codebook.codes:
        if not c.exclusive:
            continue
        kids = [k.path for k in codebook.children(c.path)]
        if codes and not any(_under(c.path, x) or _under(x, c.path) for x in codes):
            continue
        out[c.path] = kids
    return out


def _matrix(coders, units, seen, spans, code_path):
    import numpy as np

    data = np.full((len(coders), len(units)), np.nan)
    for i, coder in enumerate(coders):
        per_doc = spans[coder]
        for j, (doc, _, a, b) in enumerate(units):
            if doc not in seen[coder]:
                continue
            rows = per_doc.get(doc, ())
            data[i, j] = 1.0 if any(s < b and e > a and _under(code, code_path) for s, e, code in rows) else 0.0
    return data


def _group_matrix(coders, units, seen, spans, kids, none_as_value):
    import numpy as np

    data = np.full((len(coders), len(units)), np.nan)
    multiple = 0
    for i, coder in enumerate(coders):
        per_doc = spans[coder]
        for j, (doc, _, a, b) in enumerate(units):
            if doc not in seen[coder]:
                continue
            chosen = {k for s, e, code in per_doc.get(doc, ()) if s < b and e > a
                      for k, kid in enumerate(kids, start=1) if _under(code, kid)}
            if len(chosen) == 1:
                data[i, j] = float(chosen.pop())
            elif len(chosen) > 1:
                multiple += 1
            elif none_as_value:
                data[i, j] = 0.0
    return data, multiple


def _fleiss_table(data, n_values: int):
    import numpy as np

    complete = ~np.isnan(data).any(axis=0)
    cols = data[:, complete].astype(int)
    table = np.zeros((cols.shape[1], n_values))
    for j in range(cols.shape[1]):
        for v in cols[:, j]:
            table[j, v] += 1
    return table


def compute(store, coders: list[str], unit: str = "passage", codes: list[str] | None = None, codebook=None,
            none_as_value: bool = False, n_boot: int = N_BOOT, seed: int = SEED) -> AgreementReport:
    """Agreement among ``coders`` per code and per exclusive group of ``codebook`` (module docstring)."""
    import numpy as np

    coders = list(dict.fromkeys(coders))
    if len(coders) < 2:
        raise ConfigError("agreement needs at least two coders", hint="e.g. --coders 王,李")
    if unit not in UNITS:
        raise ConfigError(f"unknown unit {unit!r}", hint=f"one of {', '.join(UNITS)}")
    known_coders = _all_coders(store)
    for c in coders:
        if c not in known_coders:
            from qualcode.project import not_found

            raise not_found("coder", c, sorted(known_coders))
    seen = seen_documents(store, coders)
    spans = _coder_spans(store, coders)
    paths = _resolve_codes(store, codebook, coders, spans, codes)
    groups = _groups(codebook, codes)
    all_docs = sorted(set().union(*seen.values()))
    common = sorted(set.intersection(*seen.values()))
    report = AgreementReport(unit=unit, coders=coders, documents={c: len(seen[c]) for c in coders}, codes={},
                             groups={}, none_as_value=none_as_value, n_boot=n_boot, seed=seed,
                             common_documents=len(common))
    if unit == "char":
        _char_agreement(store, report, coders, common, spans, paths)
    else:
        units = _units(store, unit, all_docs)
        for path in paths:
            data = _matrix(coders, units, seen, spans, path)
            kappa = None
            if len(coders) == 2:
                both = ~np.isnan(data).any(axis=0)
                if both.any():
                    kappa = cohen_kappa(data[0, both], data[1, both], labels=[0.0, 1.0])
            report.codes[path] = CodeAgreement(
                code=path, units=pairable_units(data), percent=percent_agreement(data), kappa=kappa,
                alpha=krippendorff_alpha(data, "nominal", value_domain=[0.0, 1.0]),
                alpha_ci=binary_alpha_bootstrap(data, n_boot=n_boot, seed=seed),
                coded={c: int(np.nansum(data[i])) for i, c in enumerate(coders)},
            )
    units = _units(store, "passage" if unit == "char" else unit, all_docs)
    for group, kids in groups.items():
        data, multiple = _group_matrix(coders, units, seen, spans, kids, none_as_value)
        domain = [0.0] * none_as_value + [float(k) for k in range(1, len(kids) + 1)]
        table = _fleiss_table(data, len(kids) + 1)
        if not none_as_value:
            table = table[:, 1:]
        report.groups[group] = GroupAgreement(
            group=group, values=([NONE] if none_as_value else []) + kids, units=pairable_units(data),
            alpha=krippendorff_alpha(data, "nominal", value_domain=domain),
            fleiss_kappa=fleiss_kappa(table) if len(table) else None, fleiss_units=len(table), multiple=multiple,
        )
    return report


def _char_agreement(store, report, coders, common, spans, paths) -> None:
    import numpy as np

    with store.read() as conn:
        lengths = {i: n for i, n in conn.execute(
            select(t.documents.c.id, t.documents.c.n_chars).where(t.documents.c.id.in_(common)))}
    offsets, pos = {}, 0
    for doc in common:
        offsets[doc] = pos
        pos += lengths[doc]
    total = pos
    for path in paths:
        per_coder = []
        for coder in coders:
            units = []
            for doc in common:
                base = offsets[doc]
                units += [(base + max(0, s), base + min(e, lengths[doc]))
                          for s, e, code in spans[coder].get(doc, ()) if _under(code, path)]
            per_coder.append(merge_spans(units))
        coded = {c: sum(e - s for s, e in u) for c, u in zip(coders, per_coder)}
        if total == 0:
            report.codes[path] = CodeAgreement(path, 0, None, None, None, None, coded)
            continue
        alpha = unitized_alpha({path: per_coder}, 0, total)["categories"][path]["alpha"]
        # character-level comparison (NVivo): run-length boundaries instead of per-character arrays
        cuts = sorted({0, total, *(x for u in per_coder for s, e in u for x in (s, e))})
        weights, patterns = [], []
        for a, b in zip(cuts, cuts[1:]):
            weights.append(b - a)
            patterns.append([1.0 if any(s <= a < e for s, e in u) else 0.0 for u in per_coder])
        weights_arr = np.array(weights, dtype=float)
        pat = np.array(patterns).T  # coders × runs
        m = len(coders)
        ones = pat.sum(axis=0)
        agree = (ones * (ones - 1) + (m - ones) * (m - ones - 1)) / (m * (m - 1))
        percent = float((agree * weights_arr).sum() / weights_arr.sum())
        kappa = None
        if m == 2:
            kappa = cohen_kappa(pat[0], pat[1], sample_weight=weights_arr, labels=[0.0, 1.0])
        report.codes[path] = CodeAgreement(path, total, percent, kappa, alpha, None, coded)


def _all_coders(store) -> set[str]:
    with store.read() as conn:
        coders = {c for (c,) in conn.execute(select(t.codings.c.coder).distinct())}
        coders |= {c for (c,) in conn.execute(select(t.assignments.c.coder).distinct())}
    return coders


# ----------------------------------------------------------------------------- disagreements

DISAGREEMENT_COLUMNS = ["unit", "document", "start", "end", "code", "text"]


def disagreements(store, coders: list[str], unit: str = "passage", codes: list[str] | None = None,
                  codebook=None) -> tuple[list[dict], list[str]]:
    """Units where the coders (who both saw them) differ on a code: rows and columns for a review sheet.

    One row per (unit, code) with a column per coder: 1 = coded, 0 = not coded.
    """
    import numpy as np

    if unit == "char":
        raise ConfigError("disagreements are listed per passage, sentence or document", hint="use --unit passage")
    report_coders = list(dict.fromkeys(coders))
    if len(report_coders) < 2:
        raise ConfigError("disagreements needs at least two coders", hint="e.g. --coders 王,李")
    seen = seen_documents(store, report_coders)
    spans = _coder_spans(store, report_coders)
    paths = _resolve_codes(store, codebook, report_coders, spans, codes)
    all_docs = sorted(set().union(*seen.values()))
    units = _units(store, unit, all_docs)
    with store.read() as conn:
        docs = {i: (n, txt) for i, n, txt in conn.execute(
            select(t.documents.c.id, t.documents.c.name, t.documents.c.text).where(t.documents.c.id.in_(all_docs)))}
    rows = []
    for path in paths:
        data = _matrix(report_coders, units, seen, spans, path)
        for j, (doc, label, a, b) in enumerate(units):
            col = data[:, j]
            values = col[~np.isnan(col)]
            if len(values) >= 2 and values.min() != values.max():
                row = {"unit": label, "document": docs[doc][0], "start": a, "end": b, "code": path,
                       "text": docs[doc][1][a:b], "_doc": doc}
                for c, v in zip(report_coders, col):
                    row[c] = "" if np.isnan(v) else int(v)
                rows.append(row)
    rows.sort(key=lambda r: (r["_doc"], r["start"], r["end"], paths.index(r["code"])))
    for r in rows:
        del r["_doc"]
    return rows, DISAGREEMENT_COLUMNS[:5] + report_coders + ["text", "decision", "note"]
