"""Inter-coder agreement of a project: how far independent coders agree, per code and per exclusive group.

This module turns the store's codings into coders × units arrays and reports; the
coefficients are computed in ``qualcode.agreement.coefficients`` and who saw which
document comes from ``qualcode.agreement.assignments``.

Data
    A coder's codings are the rows with ``coder == NAME`` and ``status == 'accepted'``: their
    manual codings and the proposals they accepted (a decision stamps the deciding coder on
    the row, see ``annotate.decide``). A code counts as present in a unit when the coder
    applied it, or one of its descendants, to a span overlapping the unit.

Who saw what
    A document was seen by a coder when it is assigned to them (``qualcode assign``) or they
    have any coding or decision in it (accepted or rejected). Units of a document a coder
    never saw are *missing* for that coder, not "absent": they lower no coefficient, and each
    figure reports how many units it rests on (units with at least two coders' values). A
    document seen by at least two of the coders is always compared; ``coded`` counts each
    coder's coded units (characters at ``unit='char'``) among those same units.

Coefficients (maintained implementations; checked against docs/methods.md)
    per code (binary present/absent per unit): pairwise percent agreement, Cohen's kappa
    (exactly two coders; scikit-learn), Krippendorff's alpha (nominal, any number of coders,
    missing allowed; the ``krippendorff`` package) with a seeded percentile-bootstrap interval
    over units; per exclusive group (a parent declared ``exclusive``): nominal alpha and
    Fleiss' kappa (statsmodels; units every coder coded) over the children; at ``unit='char'``
    character-level percent agreement and kappa (NVivo's coding comparison) over the
    characters of the documents at least two coders saw (a coder who did not see a document
    is missing there), and Krippendorff's unitizing alpha (uα), which needs every coder on
    one continuum, over the documents all coders saw (the report names the others). At
    ``unit='char'`` exclusive groups are not compared (their figures are per unit; the
    report says so) rather than repeating the passage figures under a character heading.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from qualcode.agreement.assignments import seen_documents
from qualcode.agreement.coefficients import (
    CI_LEVEL,
    N_BOOT,
    SEED,
    binary_alpha_bootstrap,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    merge_spans,
    pairable_units,
    percent_agreement,
    unitized_alpha,
)
from qualcode.errors import ConfigError, not_found
from qualcode.store import queries, schema as t

UNITS = ("passage", "sentence", "document", "char")
NONE = "(none)"


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
    roles: list[str] | None = None  # speakers' roles whose turns were compared (None: every role)
    headers: bool = False  # headers (passages without a speaker) compared too
    units_used: list[str] = field(default_factory=list)  # the units compared (3:12, 3:12.2, 3; char: passages)
    alpha_documents: list[str] | None = None  # char: the documents uα is computed over (every coder saw them)
    groups_note: str = ""  # why there are no exclusive-group rows (char unit)
    documents_used: list[str] = field(default_factory=list)  # names of the documents those units are in
    unit_documents: list[str] = field(default_factory=list)  # the document of each unit in units_used

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
            "roles": self.roles,
            "headers": self.headers,
            "units_used": self.units_used,
            "documents_used": self.documents_used,
            **({"alpha_documents": self.alpha_documents} if self.alpha_documents is not None else {}),
            **({"groups_note": self.groups_note} if self.groups_note else {}),
        }

    def scope(self) -> str:
        """One line naming what was compared, for the table output."""
        roles = "every speaker's" if self.roles is None else " and ".join(self.roles)
        what = "whole documents" if self.unit == "document" else (
            f"{roles} turns" + (", headers included" if self.headers else ", headers left out"))
        line = (f"Compared {len(self.units_used)} {self.unit if self.unit != 'char' else 'passage'} units "
                f"({what}) in {len(self.documents_used)} documents: {', '.join(self.documents_used) or '-'}.")
        if self.alpha_documents is not None and len(self.alpha_documents) < len(self.documents_used):
            left = [d for d in self.documents_used if d not in set(self.alpha_documents)]
            line += (f" uα needs every coder on one continuum: it uses the {len(self.alpha_documents)} documents "
                     f"every coder saw, not {', '.join(left)} (seen by only some coders; in percent and kappa).")
        return line + (f" {self.groups_note}" if self.groups_note else "")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=False)

    CODE_COLUMNS = ["code", "units", "percent", "kappa", "alpha", "alpha_ci"]
    GROUP_COLUMNS = ["group", "units", "alpha", "fleiss_kappa", "fleiss_units", "values"]

    UNIT_COLUMNS = ["unit", "document"]

    def unit_rows(self) -> list[dict]:
        """The units compared, each with its document (the xlsx output's ``units`` sheet)."""
        return [{"unit": u, "document": d} for u, d in zip(self.units_used, self.unit_documents)]

    def code_rows(self) -> list[dict]:
        return [{"code": k, **v.to_dict()} for k, v in self.codes.items()]

    def group_rows(self) -> list[dict]:
        return [{"group": k, **v.to_dict()} for k, v in self.groups.items()]


def _r(x: float | None, places: int = 4) -> float | None:
    return None if x is None else round(float(x), places)



def _coder_spans(store, coders: list[str]) -> dict[str, dict[int, list[tuple[int, int, str]]]]:
    """coder → document → [(start, end, code)] of the coder's accepted codings."""
    with store.read() as conn:
        spans = queries.coder_spans(conn, coders)
    return {c: {doc: [(a, b, code) for a, b, code, _ in rows] for doc, rows in per.items()}
            for c, per in spans.items()}


def _units(store, unit: str, doc_ids: list[int], roles: tuple[str, ...] | None = queries.CODABLE_ROLES,
           headers: bool = False) -> list[tuple[int, str, int, int]]:
    """(document id, label, start, end) of the units compared in the given documents, in order:
    passages and sentences spoken in ``roles`` (default: interviewees and unknown roles), no headers."""
    with store.read() as conn:
        return [u[:4] for u in queries.coder_units(conn, unit, doc_ids, roles, headers)]


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
            none_as_value: bool = False, n_boot: int = N_BOOT, seed: int = SEED,
            roles: tuple[str, ...] | None = queries.CODABLE_ROLES, headers: bool = False) -> AgreementReport:
    """Agreement among ``coders`` per code and per exclusive group of ``codebook`` (module docstring).

    ``roles``: the speakers' roles whose turns are units (default: interviewees and unknown
    roles; None: every turn); headers count only with ``headers``. The report names the
    units and documents it used."""
    import numpy as np

    coders = list(dict.fromkeys(coders))
    if len(coders) < 2:
        raise ConfigError("agreement needs at least two coders", hint="e.g. --coders 王,李")
    if unit not in UNITS:
        raise ConfigError(f"unknown unit {unit!r}", hint=f"one of {', '.join(UNITS)}")
    known_coders = _all_coders(store)
    for c in coders:
        if c not in known_coders:
            raise not_found("coder", c, sorted(known_coders))
    seen = seen_documents(store, coders)
    spans = _coder_spans(store, coders)
    paths = _resolve_codes(store, codebook, coders, spans, codes)
    groups = _groups(codebook, codes)
    all_docs = sorted(set().union(*seen.values()))
    common = sorted(set.intersection(*seen.values()))
    report = AgreementReport(unit=unit, coders=coders, documents={c: len(seen[c]) for c in coders}, codes={},
                             groups={}, none_as_value=none_as_value, n_boot=n_boot, seed=seed,
                             common_documents=len(common), roles=list(roles) if roles is not None else None,
                             headers=headers)
    if unit == "char":
        shared = sorted(d for d in all_docs if sum(d in seen[c] for c in coders) >= 2)
        _char_agreement(store, report, coders, shared, common, seen, spans, paths, roles, headers)
        report.groups_note = (f"Exclusive groups ({', '.join(groups)}) are compared per passage, sentence or "
                              "document, not per character: use --unit passage.") if groups else ""
        return report
    else:
        units = _units(store, unit, all_docs, roles, headers)
        _name_units(store, report, units)
        for path in paths:
            data = _matrix(coders, units, seen, spans, path)
            pairable = (~np.isnan(data)).sum(axis=0) >= 2  # the units the coefficients rest on
            kappa = None
            if len(coders) == 2:
                both = ~np.isnan(data).any(axis=0)
                if both.any():
                    kappa = cohen_kappa(data[0, both], data[1, both], labels=[0.0, 1.0])
            report.codes[path] = CodeAgreement(
                code=path, units=pairable_units(data), percent=percent_agreement(data), kappa=kappa,
                alpha=krippendorff_alpha(data, "nominal", value_domain=[0.0, 1.0]),
                alpha_ci=binary_alpha_bootstrap(data, n_boot=n_boot, seed=seed),
                coded={c: int(np.nansum(data[i, pairable])) for i, c in enumerate(coders)},
            )
    units = _units(store, unit, all_docs, roles, headers)
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


def _name_units(store, report, units) -> None:
    with store.read() as conn:
        names = dict(conn.execute(select(t.documents.c.id, t.documents.c.name)
                                  .where(t.documents.c.id.in_({u[0] for u in units}))).all())
    report.units_used = [u[1] for u in units]
    report.unit_documents = [names[u[0]] for u in units]
    report.documents_used = [names[d] for d in dict.fromkeys(u[0] for u in units)]


def _char_agreement(store, report, coders, shared, common, seen, spans, paths, roles, headers) -> None:
    """The continuum: the characters of the compared passages of the documents at least two
    coders saw, one after another (a document without passages counts whole); a coder is
    missing on the documents they did not see. uα on the documents every coder saw."""
    import numpy as np

    with store.read() as conn:
        lengths = {i: n for i, n in conn.execute(
            select(t.documents.c.id, t.documents.c.n_chars).where(t.documents.c.id.in_(shared)))}
        with_passages = {i for (i,) in conn.execute(
            select(t.passages.c.document_id).where(t.passages.c.document_id.in_(shared)).distinct())}
    units = _units(store, "passage", sorted(with_passages), roles, headers)
    segments = [(u[0], u[2], u[3]) for u in units]  # (document, start, end) in continuum order
    segments += [(doc, 0, lengths[doc]) for doc in shared if doc not in with_passages]
    segments.sort()
    _name_units(store, report, units + [(doc, str(doc), 0, lengths[doc]) for doc in shared if doc not in with_passages])
    with store.read() as conn:
        names = dict(conn.execute(select(t.documents.c.id, t.documents.c.name)
                                  .where(t.documents.c.id.in_(common))).all())
    report.alpha_documents = [names[d] for d in common if any(seg[0] == d for seg in segments)]
    everyone = set(common)
    offsets, pos, alpha_offsets, alpha_pos = [], 0, [], 0
    for doc, a, b in segments:
        offsets.append(pos)
        pos += b - a
        alpha_offsets.append(alpha_pos if doc in everyone else None)
        alpha_pos += (b - a) if doc in everyone else 0
    total, alpha_total = pos, alpha_pos
    saw = np.array([[doc in seen[c] for doc, _, _ in segments] for c in coders], dtype=bool)  # coders × segments
    for path in paths:
        per_coder, alpha_units = [], []
        for coder in coders:
            units_, on_common = [], []
            for (doc, a, b), base, alpha_base in zip(segments, offsets, alpha_offsets):
                for s, e, code in spans[coder].get(doc, ()):
                    if _under(code, path) and s < b and e > a:
                        units_.append((base + max(s, a) - a, base + min(e, b) - a))
                        if alpha_base is not None:
                            on_common.append((alpha_base + max(s, a) - a, alpha_base + min(e, b) - a))
            per_coder.append(merge_spans(units_))
            alpha_units.append(merge_spans(on_common))
        coded = {c: sum(e - s for s, e in u) for c, u in zip(coders, per_coder)}
        if total == 0:
            report.codes[path] = CodeAgreement(path, 0, None, None, None, None, coded)
            continue
        alpha = (unitized_alpha({path: alpha_units}, 0, alpha_total)["categories"][path]["alpha"]
                 if alpha_total else None)
        # character-level comparison (NVivo): run-length boundaries instead of per-character arrays;
        # a run is missing for a coder who did not see its document
        seg_starts = np.array(offsets)
        cuts = sorted({0, total, *offsets, *(x for u in per_coder for s, e in u for x in (s, e))})
        weights, patterns = [], []
        for a, b in zip(cuts, cuts[1:]):
            seg = int(np.searchsorted(seg_starts, a, side="right")) - 1
            weights.append(b - a)
            patterns.append([(1.0 if any(s <= a < e for s, e in u) else 0.0) if saw[i, seg] else np.nan
                             for i, u in enumerate(per_coder)])
        weights_arr = np.array(weights, dtype=float)
        pat = np.array(patterns).T  # coders × runs (NaN: missing)
        present = ~np.isnan(pat)
        m = present.sum(axis=0)
        ones = np.nansum(pat, axis=0)
        zeros = m - ones
        with np.errstate(invalid="ignore", divide="ignore"):
            agree = np.where(m >= 2, (ones * (ones - 1) + zeros * (zeros - 1)) / np.maximum(m - 1, 1), 0.0)
        percent = float((agree * weights_arr).sum() / (m * weights_arr).sum())
        kappa = None
        if len(coders) == 2:
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
