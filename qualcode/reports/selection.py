"""Which codings a report counts, and loading them (one query per table) into pandas.

Every report takes a :class:`ReportData`: the selected codings, the passages and documents
they are counted against, and the code tree. ``load(project, Selection(...))`` builds it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING

from sqlalchemy import Integer, String, func, select

from qualcode.errors import QualcodeError, not_found
from qualcode.store import queries, schema as t
from qualcode.store.queries import AUTOCODER, SUGGESTER
from qualcode.vocabulary import Role

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from qualcode.codebook.model import Codebook
    from qualcode.store import Store

MACHINE_CODERS = (AUTOCODER, SUGGESTER)  # the coders recorded on the program's proposals
NONE_LABEL = "(none)"  # group name for documents without a case / attribute value
ROLE_KEY = "role"  # document attribute holding the interviewee's role code (社区党组织书记A)
_ROLE_SUFFIX = re.compile(r"[\sA-Za-z0-9]+$")


def role_group(role: str) -> str:
    """The role type of an anonymised role code: 社区党组织书记A → 社区党组织书记."""
    stripped = _ROLE_SUFFIX.sub("", role or "")
    return stripped or (role or "")


@dataclass(frozen=True)
class Selection:
    """The codings a report works on.

    Default: accepted codings and manual ones (never rejected). ``proposed`` adds unreviewed
    proposals. ``cases``/``roles``/``documents`` narrow the documents (and so the passages
    the shares are taken over); ``coders`` narrows the codings; ``interviewee_only`` keeps
    passages spoken by interviewees only. ``roles`` match the document attribute ``role``
    exactly or by role type (``社区党组织书记`` matches ``社区党组织书记A``).

    Whose codings (``resolve_coders``, applied by ``load``): the ``coders`` given; ``("all",)``
    pools every coder's codings, and the header says so; none given: the consensus coder when
    there is one, else the project's default coder, else the only coder, else an error
    listing the coders (pooling several coders' codings would count a passage once per coder).
    The program's own proposals (autocode, suggest) belong to no coder and count with any.
    """

    proposed: bool = False
    coders: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    interviewee_only: bool = False
    pooled: tuple[str, ...] = ()  # set by resolve_coders: the coders pooled by --coders all
    chosen: str = ""  # set by resolve_coders: why these coders, when the project has several

    def describe(self) -> str:
        """One line for report headers, e.g. 'accepted and manual codings; case N街道'."""
        parts = ["accepted, manual and proposed (unreviewed) codings" if self.proposed
                 else "accepted and manual codings"]
        if self.pooled:
            parts.append(f"all {len(self.pooled)} coders pooled: " + ", ".join(self.pooled))
        elif self.coders:
            if self.chosen != ONLY_CODER:
                parts.append("coder " + ", ".join(self.coders) + (f" ({self.chosen})" if self.chosen else ""))
        if self.cases:
            parts.append("case " + ", ".join(self.cases))
        if self.roles:
            parts.append("role " + ", ".join(self.roles))
        if self.documents:
            parts.append("documents " + ", ".join(self.documents))
        if self.interviewee_only:
            parts.append("interviewee turns only")
        return "; ".join(parts)


@dataclass
class ReportData:
    """Selected codings with the passages, documents and codes they are counted against.

    ``documents``: doc_id, document, case, plus one column per document attribute.
    ``passages``: pid, doc_id, seq, start, end, speaker_role (only passages in scope).
    ``passage_counts``: passages in scope per document (index doc_id, every document in scope).
    ``codings``: id, doc_id, pid, start, end, code, coder, origin, status, score, unit,
    pinned (1 for a pinned exemplar quote), and passage_start, passage_end: the bounds of the
    passage the coding was made in (if any). Only codings of presence: negative evidence
    (codings marked absent) is in ``absences``, with the same columns, and only the reports
    that say so (chain, frequencies' ``absent`` column) read it.
    ``codes``: code, label, label_en, parent, depth, order (codebook tree order first).
    """

    project_name: str
    selection: Selection
    documents: pd.DataFrame
    passage_counts: pd.Series
    codings: pd.DataFrame
    codes: pd.DataFrame
    store: Store | None = None
    codebook: Codebook | None = None
    attribute_keys: list[str] = field(default_factory=list)
    absences: pd.DataFrame | None = None
    _passages: pd.DataFrame | None = field(default=None, repr=False)
    _coded_passages: pd.DataFrame | None = field(default=None, repr=False)
    _speech: pd.DataFrame | None = field(default=None, repr=False)
    _texts: dict = field(default_factory=dict, repr=False)
    _expanded: dict = field(default_factory=dict, repr=False)

    @property
    def passages(self) -> pd.DataFrame:
        """The passages in scope, read on first use (in a transaction of their own): most
        reports need only ``passage_counts``, and reading every passage is the largest part
        of loading a big project."""
        if self._passages is None:
            # load() reads them at once when the selection filters on them (interviewee_only)
            assert self.store is not None, "report data without a store: passages must be given"
            with self.store.read() as conn:
                self._passages = _of_documents(read_passages(conn), self.documents["doc_id"])
        return self._passages

    def coded_passages(self) -> pd.DataFrame:
        """doc_id, seq, speaker_role and has_speaker (index pid) of the passages in scope that
        the selected codings are in: every passage when they are read already, else only those
        (one query). What ranking and describing quotes need, without reading every passage of
        a big project."""
        columns = ["doc_id", "seq", "speaker_role", "has_speaker"]
        if self._passages is not None:
            return self._passages.set_index("pid")[columns]
        if self._coded_passages is None:
            assert self.store is not None, "report data without a store: passages must be given"
            p, k = t.passages, t.codings
            # the codings' passage ids as load() selects them (a superset: every status counted)
            coded = select(k.c.passage_id).where(*_coding_filters(self.selection))
            with self.store.read() as conn:
                found = read_passages(conn, p.c.id.in_(coded))
            found = _of_documents(found, self.documents["doc_id"]).set_index("pid")
            pids = self.codings["pid"]
            if not pids[pids >= 0].isin(found.index).all():  # codings not made as the selection says
                return self.passages.set_index("pid")[columns]
            self._coded_passages = found[columns]
        return self._coded_passages

    def speech_counts(self) -> pd.DataFrame:
        """Per document in scope (index doc_id), counted in SQL: ``labelled`` passages (with a
        speaker label), ``talk`` (labelled, not the interviewer's) and ``unlabelled`` (one
        query, made once)."""
        import pandas as pd

        if self._speech is not None:
            return self._speech
        assert self.store is not None, "report data without a store: passages must be given"
        p, s = t.passages, t.speakers
        labelled = p.c.speaker_id.is_not(None)
        query = select(p.c.document_id, func.count(p.c.speaker_id),
                       func.count(p.c.speaker_id).filter(func.coalesce(s.c.role, "") != Role.INTERVIEWER.value),
                       func.count().filter(~labelled)).select_from(
            p.outerjoin(s, p.c.speaker_id == s.c.id)).group_by(p.c.document_id)
        with self.store.read() as conn:
            rows = conn.execute(query).all()
        counts = pd.DataFrame(rows, columns=["doc_id", "labelled", "talk", "unlabelled"]).set_index("doc_id")
        self._speech = counts.reindex(self.documents["doc_id"], fill_value=0).astype("int64")
        return self._speech

    @property
    def passages_read(self) -> bool:
        """Whether the passages are read already (see :attr:`passages`)."""
        return self._passages is not None

    @property
    def n_passages(self) -> int:
        """Passages in scope (without reading them)."""
        return int(self.passage_counts.sum())

    def passages_per(self, groups: pd.Series) -> pd.Series:
        """Passages in scope per group, for ``groups`` = group label per document (see :meth:`groups`)."""
        return self.passage_counts.groupby(groups).sum()

    # -- helpers shared by the reports -----------------------------------------------------
    def groups(self, by: str = "case") -> pd.Series:
        """Group label per document (index doc_id): its case, role type ('role') or an attribute."""
        docs = self.documents.set_index("doc_id")
        if by == "case":
            values = docs["case"]
        elif by == "role":
            values = docs[ROLE_KEY].map(role_group) if ROLE_KEY in docs else docs["case"].map(lambda _: "")
        elif by == "role_code":
            values = docs[ROLE_KEY] if ROLE_KEY in docs else docs["case"].map(lambda _: "")
        elif by in docs.columns:
            values = docs[by]
        else:
            raise QualcodeError(f"no document attribute {by!r}",
                                hint="use case, role or one of: " + ", ".join(self.attribute_keys or ["(none)"]))
        return values.fillna("").astype(str).replace("", NONE_LABEL)

    def code_label(self, code: str) -> str:
        row = self.codes.loc[self.codes["code"] == code]
        return str(row["label"].iloc[0]) if len(row) else code

    def texts(self, doc_ids) -> dict[int, str]:
        """Document texts (fetched once, in one query, only for the documents asked for)."""

        missing = sorted({int(d) for d in doc_ids} - set(self._texts))
        if missing and self.store is not None:
            with self.store.read() as conn:
                for doc_id, text in conn.execute(select(t.documents.c.id, t.documents.c.text)
                                                 .where(t.documents.c.id.in_(missing))):
                    self._texts[doc_id] = text
        return {int(d): self._texts.get(int(d), "") for d in doc_ids}

    def sentences(self) -> pd.DataFrame:
        """Sentences of the passages in scope: pid, start, end (one query)."""

        s = t.sentences
        assert self.store is not None, "report data without a store have no sentences"
        with self.store.read() as conn:
            df = frame(conn, select(s.c.passage_id, s.c.start, s.c.end).order_by(s.c.passage_id, s.c.seq),
                       ["pid", "start", "end"])
        return df[df["pid"].isin(self.passages["pid"])].reset_index(drop=True)

    def ancestors(self, level: int | None = None) -> dict[str, list[str]]:
        """code → the codes a coding of it counts for: all ancestors and itself (level None),
        or its single ancestor at depth ``level`` (codes shallower than that stay as they are)."""
        out = {}
        for code in self.codes["code"]:
            parts = code.split("/")
            if level is None:
                out[code] = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            else:
                out[code] = ["/".join(parts[: min(level, len(parts) - 1) + 1])]
        return out

    def expanded(self, level: int | None = None, rollup: bool = True) -> pd.DataFrame:
        """Codings with ``code`` replaced by what they count for (see :meth:`ancestors`).
        ``rollup=False`` and no level: the codings as coded. Made once per (level, rollup)
        and shared, like ``codings``: callers must not change it in place."""
        import pandas as pd

        k = self.codings
        if not rollup and level is None:
            return k
        key = (level, rollup)
        if key not in self._expanded:
            out = _expand_codes(k, self.ancestors(level))
            if out is None:  # the general way (an unknown code, repeated ids, no codings)
                lists = k["code"].map(self.ancestors(level))
                out = k.drop(columns=["code"]).assign(code=lists).explode("code")
                out = out.drop_duplicates(subset=["id", "code"])
            self._expanded[key] = pd.DataFrame(out).reset_index(drop=True)
        return self._expanded[key]


def _expand_codes(k, ancestors: dict[str, list[str]]):
    """What ``explode`` of each coding's ancestor list gives (same rows, order and columns),
    built with one ``take`` instead of a Python list per coding; None when the shortcut does
    not apply. With unique coding ids and distinct ancestors, no row repeats an (id, code)."""
    import numpy as np
    import pandas as pd

    if not len(k) or not k["id"].is_unique:
        return None
    which, uniques = pd.factorize(k["code"])
    if (which < 0).any() or any(code not in ancestors for code in uniques):
        return None
    lists = [ancestors[code] for code in uniques]
    if any(len(set(x)) != len(x) or not x for x in lists):
        return None
    sizes = np.array([len(x) for x in lists], dtype=np.int64)
    flat = np.empty(int(sizes.sum()), dtype=object)
    flat[:] = [a for x in lists for a in x]
    n = sizes[which]
    first = (np.cumsum(sizes) - sizes)[which]
    taken = np.repeat(first, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    out = k.drop(columns=["code"]).take(np.repeat(np.arange(len(k)), n)).reset_index(drop=True)
    out["code"] = flat[taken]
    return out


FETCH = 65536  # rows fetched at a time: the driver's row tuples never exist all at once


def frame(conn, query, columns: list[str]):
    """A query's rows as a DataFrame, typed column by column as they are fetched.

    Rows come from the DB-API cursor in chunks of ``FETCH`` (plain tuples, no SQLAlchemy
    Row objects; selected columns are ints and strings, which need no result processing),
    and each chunk goes at once into its columns: integers into int64 arrays, other values
    into lists in which equal strings are one object. So memory holds the columns, not a
    tuple and an object per cell (a 10,000-interview project's 1.4 M passages and 466 k
    codings were two thirds of ``report all``'s memory); the frame is the same as from all
    rows at once.
    """
    import numpy as np
    import pandas as pd

    result = conn.execute(query)
    cursor = result.cursor
    integer = [isinstance(column.type, Integer) for column in query.selected_columns]
    text = [isinstance(column.type, String) for column in query.selected_columns]
    parts: list[list] = [[] for _ in columns]  # per column: int64 arrays, or lists, one per chunk
    strings: list[dict] = [{} for _ in columns]
    n = 0
    while cursor is not None:
        rows = cursor.fetchmany(FETCH)
        if not rows:
            break
        n += len(rows)
        for i in range(len(columns)):
            if integer[i]:
                try:
                    parts[i].append(np.fromiter(map(itemgetter(i), rows), dtype=np.int64, count=len(rows)))
                    continue
                except TypeError:  # a NULL: the column becomes a list, and pandas chooses its type as before
                    integer[i] = False
                    parts[i] = [a.tolist() for a in parts[i]]
            values = list(map(itemgetter(i), rows))
            if text[i]:  # str or None: equal strings become one object (None maps to itself)
                parts[i].append(list(map(strings[i].setdefault, values, values)))
            else:
                same = strings[i]
                parts[i].append([same.setdefault(v, v) if v.__class__ is str else v for v in values])
        del rows
    result.close()
    if not n:
        return pd.DataFrame({c: [] for c in columns}, columns=columns)
    data = {}
    for i, name in enumerate(columns):
        chunks, parts[i] = parts[i], []
        data[name] = (chunks[0] if len(chunks) == 1 else np.concatenate(chunks)) if integer[i] else \
            list(chain.from_iterable(chunks))
        del chunks
    return pd.DataFrame(data, columns=columns)


def read_passages(conn, where=None) -> pd.DataFrame:
    """Every passage (or those ``where`` selects): pid, doc_id, seq, start, end, speaker_role
    ("" without a role), has_speaker (False for a line without a speaker label: a header, or
    speech of a transcript without labels)."""

    import numpy as np
    import pandas as pd

    p, s = t.passages, t.speakers
    # the speaker's id as an integer column (-1: none), its role looked up here: cheaper than
    # a join and a column of booleans over a million passages
    query = select(p.c.id, p.c.document_id, p.c.seq, p.c.start, p.c.end, func.coalesce(p.c.speaker_id, -1))
    if where is not None:
        query = query.where(where)
    passages = frame(conn, query.order_by(p.c.document_id, p.c.seq), ["pid", "doc_id", "seq", "start", "end", "speaker"])
    speakers = conn.execute(select(s.c.id, s.c.role)).all()
    roles = np.empty(len(speakers) + 1, dtype=object)
    roles[:] = [role or "" for _, role in speakers] + [""]  # position -1: no speaker, or none known
    speaker = passages.pop("speaker").to_numpy(dtype=np.int64)
    where = pd.Index([i for i, _ in speakers], dtype="int64").get_indexer(speaker)
    passages["speaker_role"] = pd.Series(roles[where].tolist(), index=passages.index, dtype="str")
    passages["has_speaker"] = speaker >= 0
    return passages


def _of_documents(df, doc_ids):
    """The rows of ``df`` about the documents ``doc_ids``."""
    return df[df["doc_id"].isin(doc_ids)].reset_index(drop=True)


def _passage_counts(conn, interviewee_only: bool) -> dict[int, int]:
    """doc_id → passages (interviewee turns only, if asked), counted in SQL."""

    p, s = t.passages, t.speakers
    query = select(p.c.document_id, func.count()).group_by(p.c.document_id)
    if interviewee_only:
        query = query.select_from(p.join(s, p.c.speaker_id == s.c.id)).where(s.c.role == "interviewee")
    return dict(conn.execute(query).all())


def _codes_frame(codebook, store, used: list[str]):
    """The code tree: codebook order first, then codes found only in the store or the codings."""
    import pandas as pd


    rows: list[dict] = []
    seen: set[str] = set()
    if codebook is not None:
        for c in codebook.codes:
            rows.append(dict(code=c.path, label=c.label_zh or c.id, label_en=c.label_en or "",
                             parent=c.parent or "", depth=c.path.count("/")))
            seen.add(c.path)
    with store.read() as conn:
        stored = conn.execute(select(t.codes.c.path, t.codes.c.parent, t.codes.c.label, t.codes.c.label_en)
                              .order_by(t.codes.c.sort, t.codes.c.path)).all()
    extra: dict[str, dict] = {}
    for path, parent, label, label_en in stored:
        if path not in seen:
            extra[path] = dict(code=path, label=label or path.rsplit("/", 1)[-1], label_en=label_en or "",
                               parent=parent or "", depth=path.count("/"))
    for path in used:
        parts = path.split("/")
        for i in range(len(parts)):
            p = "/".join(parts[: i + 1])
            if p not in seen and p not in extra:
                extra[p] = dict(code=p, label=parts[i], label_en="", parent="/".join(parts[:i]), depth=i)
    rows.extend(extra[p] for p in sorted(extra))
    df = pd.DataFrame(rows, columns=["code", "label", "label_en", "parent", "depth"])
    df["order"] = range(len(df))
    return df


def _coding_filters(selection: Selection) -> list:
    """The conditions on the codings table that ``selection`` counts."""
    k = t.codings
    out = [queries.counted(selection.proposed)]
    if selection.coders:  # the program's proposals belong to no coder: they count with any
        out.append(k.c.coder.in_(list(selection.coders) + list(MACHINE_CODERS)))
    return out


def load(project, selection: Selection | None = None, codebook=None) -> ReportData:
    """Load the selected codings and their context from ``project`` (a Project)."""
    import pandas as pd


    selection = resolve_coders(project, selection or Selection())
    store = project.store
    if codebook is None:
        try:
            codebook = project.codebook()
        except QualcodeError:
            codebook = None
    d, c, a, k, p = t.documents, t.cases, t.attributes, t.codings, t.passages
    with store.read() as conn:
        docs = frame(conn, select(d.c.id, d.c.name, c.c.name).select_from(d.outerjoin(c, d.c.case_id == c.c.id))
                     .order_by(d.c.id), ["doc_id", "document", "case"])
        attrs = frame(conn, select(a.c.document_id, a.c.key, a.c.value), ["doc_id", "key", "value"])
        passage_counts = _passage_counts(conn, selection.interviewee_only)
        check_names(conn, selection)
        query = select(k.c.id, k.c.document_id, k.c.passage_id, k.c.start, k.c.end, k.c.code, k.c.coder,
                       k.c.origin, k.c.status, k.c.score, k.c.unit, k.c.absent, k.c.pinned_at.is_not(None),
                       p.c.start, p.c.end).select_from(
            k.outerjoin(p, k.c.passage_id == p.c.id)).where(*_coding_filters(selection))
        codings = frame(conn, query.order_by(k.c.document_id, k.c.start, k.c.end, k.c.code, k.c.id),
                        ["id", "doc_id", "pid", "start", "end", "code", "coder", "origin", "status", "score",
                         "unit", "absent", "pinned", "passage_start", "passage_end"])
        # the passages themselves only when the codings need them now; else on first use
        passages = None
        if selection.interviewee_only or codings["pid"].isna().any():
            passages = read_passages(conn)
    docs["case"] = docs["case"].fillna("")
    keys = sorted(attrs["key"].unique().tolist()) if len(attrs) else []
    reserved = {"doc_id", "document", "case"}
    if keys:
        wide = attrs[~attrs["key"].isin(reserved)].pivot_table(index="doc_id", columns="key", values="value",
                                                               aggfunc="first")
        wide.columns = [str(col) for col in wide.columns]
        docs = docs.merge(wide, left_on="doc_id", right_index=True, how="left")
    for key in keys:
        if key in docs.columns and key not in reserved:
            docs[key] = docs[key].fillna("").astype(str)

    # narrow the documents
    keep = pd.Series(True, index=docs.index)
    if selection.cases:
        keep &= docs["case"].isin(selection.cases)
    if selection.roles:
        codes_ = docs[ROLE_KEY] if ROLE_KEY in docs else pd.Series("", index=docs.index)
        keep &= codes_.isin(selection.roles) | codes_.map(role_group).isin(selection.roles)
    if selection.documents:
        wanted = set(selection.documents)
        keep &= docs["document"].isin(wanted) | docs["doc_id"].astype(str).isin(wanted)
    docs = docs[keep].reset_index(drop=True)
    codings = _of_documents(codings, docs["doc_id"])
    if passages is not None:
        passages = _of_documents(passages, docs["doc_id"])
    codings = _attach_passages(codings, passages)
    if selection.interviewee_only:
        assert passages is not None  # read above
        passages = passages[passages["speaker_role"] == "interviewee"].reset_index(drop=True)
        codings = codings[codings["pid"].isin(passages["pid"])].reset_index(drop=True)
    codings["score"] = pd.to_numeric(codings["score"], errors="coerce").fillna(0.0)
    codings["unit"] = codings["unit"].fillna("span")
    codings["pinned"] = codings["pinned"].fillna(0).astype(int)
    negative = codings["absent"].fillna(0).astype(int) == 1
    absences = codings[negative].drop(columns=["absent"]).reset_index(drop=True)
    codings = codings[~negative].drop(columns=["absent"]).reset_index(drop=True)
    # unique() first: iterating a column of half a million strings element by element is slow
    codes = _codes_frame(codebook, store, sorted(set(codings["code"].unique().tolist())
                                                 | set(absences["code"].unique().tolist())))
    counts = pd.Series([passage_counts.get(doc_id, 0) for doc_id in docs["doc_id"]],
                       index=pd.Index(docs["doc_id"], name="doc_id"), dtype="int64")
    return ReportData(project_name=project.name, selection=selection, documents=docs, passage_counts=counts,
                      codings=codings, codes=codes, store=store, codebook=codebook,
                      attribute_keys=[k_ for k_ in keys if k_ not in reserved], absences=absences,
                      _passages=passages)


ALL_CODERS = "all"
ONLY_CODER = "the only coder"  # chosen when nobody else coded: the header need not say whose


def resolve_coders(project, selection: Selection) -> Selection:
    """``selection`` with the coders whose codings count made explicit (see ``Selection``)."""
    if selection.pooled or selection.chosen:
        return selection  # resolved already
    people = _coders_with_codings(project.store)
    if ALL_CODERS in selection.coders:
        if len(selection.coders) > 1:
            raise QualcodeError(f"'{ALL_CODERS}' pools every coder: give it alone, or name the coders")
        return replace(selection, coders=(), pooled=tuple(people) or ("(none)",))
    if selection.coders:
        return selection
    others = f"of {len(people)} coders" if len(people) > 1 else ""
    consensus = project.consensus_coder
    if consensus in people:
        return replace(selection, coders=(consensus,), chosen=f"the consensus {others}".strip())
    default = project.default_coder
    if default in people:
        return replace(selection, coders=(default,),
                       chosen=f"the project's default coder {others}" if others else ONLY_CODER)
    if len(people) <= 1:  # one coder, or only the program's proposals: nothing is pooled
        return replace(selection, coders=tuple(people), chosen=ONLY_CODER)
    raise QualcodeError(
        f"codings by {len(people)} coders ({', '.join(people)}), no consensus and none by the default coder "
        f"{default}: say whose codings to count",
        hint=f"--coders {people[0]} (one coder), --coders all (pooled; the report says so), or settle them "
             f"into a consensus: qualcode adjudicate --coders {','.join(people[:2])}")


def _coders_with_codings(store) -> list[str]:
    """The people whose codings count (not the program's proposers), sorted."""
    k = t.codings
    with store.read() as conn:
        names = {c for (c,) in conn.execute(select(k.c.coder).where(queries.counted(False)).distinct())}
    return sorted(names - set(MACHINE_CODERS))


def check_names(conn, selection: Selection) -> None:
    """An unknown case, role, document or coder in ``selection`` is an error naming the nearest
    existing one: a mistyped filter must not give a report of zeros."""
    d, c, a, k = t.documents, t.cases, t.attributes, t.codings
    if selection.cases:
        known = [n for (n,) in conn.execute(select(c.c.name).order_by(c.c.name))]
        _check("case", selection.cases, known, "qualcode docs list")
    if selection.roles:
        codes = [v for (v,) in conn.execute(select(a.c.value).where(a.c.key == ROLE_KEY).distinct())]
        known = sorted(set(codes) | {role_group(v) for v in codes})
        _check("role", selection.roles, known, "qualcode docs list")
    if selection.documents:
        rows = conn.execute(select(d.c.id, d.c.name)).all()
        known = [str(i) for i, _ in rows] + [name for _, name in rows]
        _check("document", selection.documents, known, "qualcode docs list", suggest=[name for _, name in rows])
    if selection.coders:
        known = sorted({n for (n,) in conn.execute(select(k.c.coder).distinct())})
        _check("coder", selection.coders, known, "qualcode code list")


def _check(kind: str, wanted, known: list[str], listing: str, suggest: list[str] | None = None) -> None:
    have = set(known)
    for name in wanted:
        if name not in have:
            err = not_found(kind, name, suggest if suggest is not None else known)
            if not (err.hint or "").startswith("did you mean"):
                shown = ", ".join((suggest if suggest is not None else known)[:8]) or "none"
                err.hint = f"known: {shown} ('{listing}')"
            raise err


def _attach_passages(codings, passages):
    """Codings without a passage id get the passage their start falls in (vectorised);
    ``passages`` may be None when every coding has one."""
    import numpy as np
    import pandas as pd

    codings = codings.copy()
    missing = codings["pid"].isna()
    if missing.any() and len(passages):
        left = codings.loc[missing, ["doc_id", "start"]].reset_index()
        right = passages[["doc_id", "start", "pid"]].rename(columns={"start": "p_start", "pid": "_pid"})
        left = left.sort_values("start", kind="stable")
        right = right.sort_values("p_start", kind="stable")
        merged = pd.merge_asof(left, right, left_on="start", right_on="p_start", by="doc_id", direction="backward")
        codings.loc[merged["index"].to_numpy(), "pid"] = merged["_pid"].to_numpy()
    codings["pid"] = codings["pid"].astype("float").fillna(-1).astype(np.int64)
    return codings
