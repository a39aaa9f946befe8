"""The statistics issue 17 fixed, recomputed with independent implementations (scipy's Fisher
exact test, statsmodels' Benjamini–Hochberg, plain Python sets for units and placement, an
exhaustive enumeration of interview orders) on a project built here."""
from __future__ import annotations

import itertools
import random
import statistics

import numpy as np
import pytest
from scipy.stats import fisher_exact
from sqlalchemy import insert
from statsmodels.stats.multitest import multipletests

from qualcode.project import Project
from qualcode.reports import Selection, cooccurrence, frequencies, load, saturation
from qualcode.reports.saturation import guest_saturation
from qualcode.store import schema as t
from tests.reports.helpers import CODEBOOK

LEAVES = ["construction/hub", "construction/network", "embedding/leadership", "embedding/retirees",
          "mobilization/deliberation", "governance/legitimacy", "governance/rules", "governance/responsiveness"]


def build_random(root, n_docs=6, seed=3) -> Project:
    """Interviews of a header line, then interviewer and interviewee turns (two sentences each
    answer); codings on whole answers (passage level), on sentences (span), across two
    passages, and a few on interviewer turns; one coding marked absent, one proposal."""
    rng = random.Random(seed)
    project = Project.init(root)
    path = root / "codebooks" / "test.yaml"
    path.write_text(CODEBOOK, encoding="utf-8")
    project.use_codebook(path)
    with project.store.transaction() as conn:
        case = conn.execute(insert(t.cases).values(name="甲")).inserted_primary_key[0]
        for d in range(1, n_docs + 1):
            turns = [(None, "访谈记录（整理稿）")]
            for q in range(rng.randint(3, 6)):
                turns += [("interviewer", f"问：第{q}个问题？"), ("interviewee", f"答：第{q}句回答。还有一句补充。")]
            text = "\n".join(body for _, body in turns)
            conn.execute(insert(t.documents).values(
                id=d, name=f"doc{d}", file_name=f"doc{d}.txt", source_path=f"/x/doc{d}.txt", content_hash=str(d),
                text=text, n_chars=len(text), encoding="utf-8", style="qa", script="simplified", case_id=case,
                dict_version="x", warnings="[]", imported_at="2026-01-01"))
            conn.execute(insert(t.attributes).values(document_id=d, key="date", value=f"2023-01-{d:02d}"))
            speakers = {role: conn.execute(insert(t.speakers).values(document_id=d, label=role, role=role))
                        .inserted_primary_key[0] for role in ("interviewer", "interviewee")}
            offset, rows = 0, []
            for seq, (role, body) in enumerate(turns, start=1):
                pid = conn.execute(insert(t.passages).values(
                    document_id=d, seq=seq, speaker_id=speakers.get(role) if role else None, start=offset,
                    end=offset + len(body), tokens=b"")).inserted_primary_key[0]
                cut = body.find("。") + 1 if role == "interviewee" else len(body)
                sentences = [(offset, offset + cut)] + ([(offset + cut, offset + len(body))] if cut < len(body) else [])
                for n, (s, e) in enumerate(sentences, start=1):
                    conn.execute(insert(t.sentences).values(passage_id=pid, seq=n, start=s, end=e))
                rows.append((pid, role, offset, offset + len(body), sentences))
                offset += len(body) + 1
            for pid, role, start, end, sentences in rows:
                if role is None or (role == "interviewer" and rng.random() > 0.15):
                    continue
                for code in rng.sample(LEAVES, rng.randint(0, 3)):
                    kind = rng.choice(["passage", "sentence", "cross"])
                    s, e, unit = start, end, "passage"
                    if kind == "sentence":
                        s, e = rng.choice(sentences)
                        unit = "span"
                    elif kind == "cross" and pid != rows[-1][0]:
                        s, e, unit = sentences[-1][0], end + 3, "span"  # runs into the next passage
                    conn.execute(insert(t.codings).values(
                        document_id=d, passage_id=pid, start=s, end=e, code=code, coder="王", origin="manual",
                        status="accepted", unit=unit, created_at="2026", updated_at="2026"))
        conn.execute(insert(t.codings).values(document_id=1, passage_id=None, start=2, end=4, code="embedding",
                                              coder="王", origin="manual", status="accepted", unit="span",
                                              absent=1, created_at="2026", updated_at="2026"))
    return project


@pytest.fixture(scope="module")
def random_project(tmp_path_factory):
    project = build_random(tmp_path_factory.mktemp("stats") / "p")
    yield project
    project.close()


def raw(project):
    """Passages, sentences and (present) codings straight from the tables."""
    with project.store.read() as conn:
        passages = conn.execute(t.passages.select()).mappings().all()
        roles = dict(conn.execute(t.speakers.select().with_only_columns(t.speakers.c.id, t.speakers.c.role)).all())
        sentences = conn.execute(t.sentences.select()).mappings().all()
        codings = conn.execute(t.codings.select().where(t.codings.c.absent == 0)).mappings().all()
    return passages, roles, sentences, codings


def overlaps(c, start, end) -> bool:
    return c["start"] < end and max(c["end"], c["start"] + 1) > start


def units_of(project, unit="passage"):
    """unit id → set of codes (as coded), and the number of units, by the documented rules."""
    passages, roles, sentences, codings = raw(project)
    labelled = {p["document_id"] for p in passages if p["speaker_id"] is not None}
    coded = {p["id"] for p in passages for c in codings if c["document_id"] == p["document_id"]
             and overlaps(c, p["start"], p["end"])}
    codable = {p["id"]: p for p in passages if p["id"] in coded or (
        roles.get(p["speaker_id"]) != "interviewer" and not (p["speaker_id"] is None and p["document_id"] in labelled))}
    if unit == "passage":
        units = {pid: (p["document_id"], p["start"], p["end"]) for pid, p in codable.items()}
        chosen = codings
    else:
        units = {(s["passage_id"], s["seq"]): (codable[s["passage_id"]]["document_id"], s["start"], s["end"])
                 for s in sentences if s["passage_id"] in codable}
        chosen = [c for c in codings if c["unit"] != "passage"]
    content = {u: {c["code"] for c in chosen if c["document_id"] == d and overlaps(c, s, e)}
               for u, (d, s, e) in units.items()}
    return content, len(units)


@pytest.mark.parametrize("unit", ["passage", "sentence"])
def test_pairs_n_fisher_and_bh_over_the_whole_family(random_project, unit):
    content, n = units_of(random_project, unit)
    codes = sorted({c for cs in content.values() for c in cs}, key=LEAVES.index)
    count = {c: sum(c in cs for cs in content.values()) for c in codes}
    pairs = list(itertools.combinations(codes, 2))
    both = [sum(a in cs and b in cs for cs in content.values()) for a, b in pairs]
    p = [fisher_exact([[k, count[a] - k], [count[b] - k, n - count[a] - count[b] + k]], alternative="greater")[1]
         for (a, b), k in zip(pairs, both)]
    q = multipletests(p, method="fdr_bh")[1]
    data = load(random_project)
    for min_count in (1, 3):
        df = cooccurrence(data, unit=unit, min_count=min_count)
        assert df.attrs["family"] == len(pairs) and set(df["units"]) <= {n} and df.attrs["units"] == n
        assert f"over all {len(pairs)} pairs" in df.attrs["note"]
        expected = {(a, b): (k, pv, qv) for (a, b), k, pv, qv in zip(pairs, both, p, q) if k >= min_count}
        got = {(r.code_a, r.code_b): (r.n_ab, r.p_fisher, r.q_bh) for r in df.itertuples()}
        assert got.keys() == expected.keys() and (got or min_count > 1)
        for key, (k, pv, qv) in expected.items():
            assert got[key][0] == k
            assert got[key][1] == pytest.approx(pv, rel=1e-3) and got[key][2] == pytest.approx(qv, rel=1e-3)
    every = cooccurrence(data, unit="passage", all_units=True)
    with random_project.store.read() as conn:
        assert every.attrs["units"] == len(conn.execute(t.passages.select()).all())  # --all-units: every passage


def test_frequencies_place_a_span_in_every_passage_it_overlaps(random_project):
    passages, _, _, codings = raw(random_project)
    freq = frequencies(load(random_project)).set_index("code")
    for code in LEAVES:
        touched = {p["id"] for p in passages for c in codings if c["code"] == code
                   and c["document_id"] == p["document_id"] and overlaps(c, p["start"], p["end"])}
        assert freq.at[code, "passages"] == len(touched), code
    assert freq.at["embedding", "absent"] == 1 and freq.at["embedding", "absent_documents"] == 1


def exact_guest_points(code_sets, base, run, threshold):
    """Every order of the interviews, counted by hand: the saturation interview per order
    (None when not reached)."""
    out = []
    for order in itertools.permutations(range(len(code_sets))):
        seen, new = set(), []
        for i in order:
            fresh = code_sets[i] - seen
            new.append(len(fresh))
            seen |= fresh
        b = sum(new[:base])
        point = None
        for s in range(base + 1, len(new) - run + 2):
            if b and sum(new[s - 1:s - 1 + run]) / b <= threshold:
                point = s - 1
                break
        out.append(point)
    return out


def test_order_band_matches_the_exhaustive_distribution(random_project):
    data = load(random_project)
    docs = data.documents.sort_values("doc_id")["doc_id"].tolist()
    code_sets = [set(data.codings.loc[data.codings["doc_id"] == d, "code"]) for d in docs]
    points = exact_guest_points(code_sets, 2, 1, 0.2)
    _, summary = saturation(data, base=2, run=1, threshold=0.2, band_orders=4000)
    row = summary.set_index("scope").loc["overall"]
    reached = [p for p in points if p is not None]
    assert row["band_reached"] == pytest.approx(len(reached) / len(points), abs=0.03)
    ranked = sorted(points, key=lambda p: (p is None, p or 0))
    for column, share in (("band_median", 0.5), ("band_p05", 0.05), ("band_p95", 0.95)):
        exact = ranked[int(np.ceil(share * len(ranked))) - 1]
        assert row[column] == (exact if exact is not None else "not reached"), column
    assert row["order"] == "date" and "interviews in date order" in row["sentence"]
    # the point of the date order itself follows the Guest rule on the curve
    assert guest_saturation([len(s) for s in code_sets], 2, 1, 0.2).base_codes > 0
    assert statistics.median([p for p in points if p is not None]) >= 2


def test_leaf_only_drops_parents_of_codes_seen(random_project):
    with random_project.store.transaction() as conn:
        conn.execute(insert(t.codings).values(document_id=2, start=0, end=3, code="governance", coder="王",
                                              origin="manual", status="accepted", unit="span", created_at="2026",
                                              updated_at="2026"))
    try:
        data = load(random_project)
        _, plain = saturation(data)
        _, leaf = saturation(data, leaf_only=True)
        observed = set(data.codings["code"])
        assert plain.set_index("scope").at["overall", "codes_observed"] == len(observed)
        assert leaf.set_index("scope").at["overall", "codes_observed"] == len(observed - {"governance"})
    finally:
        with random_project.store.transaction() as conn:
            conn.execute(t.codings.delete().where(t.codings.c.code == "governance"))


def test_degenerate_chao2_and_the_proposals_warning(tmp_path):
    project = build_random(tmp_path / "p", n_docs=3, seed=1)
    with project.store.transaction() as conn:  # Q1 = 1, Q2 = 0: one code in one interview only
        conn.execute(t.codings.delete())
        for d in (1, 2, 3):
            conn.execute(insert(t.codings).values(document_id=d, start=0, end=2, code="construction/network",
                                                  coder="王", origin="manual", status="accepted", unit="span",
                                                  created_at="2026", updated_at="2026"))
        conn.execute(insert(t.codings).values(document_id=1, start=0, end=2, code="governance/rules", coder="autocode",
                                              origin="rule", status="proposed", unit="span", created_at="2026",
                                              updated_at="2026"))
    _, summary = saturation(load(project, Selection(proposed=True)))
    row = summary.set_index("scope").loc["overall"]
    assert (row["singletons"], row["doubletons"]) == (1, 0)
    assert row["chao2_lower"] == "" and row["chao2_upper"] == ""  # not "2.0–2.0"
    assert "estimates no unseen codes" in row["chao2_note"] and "no interval" in row["estimate"]
    assert row["warning"].startswith("counts include 1 unreviewed proposals of 4 codings")
    _, reviewed = saturation(load(project))
    assert reviewed.set_index("scope").at["overall", "warning"] == ""
    project.close()
