"""Where ``qualcode autocode`` spends its time, phase by phase (CPU seconds, in-process).

    .venv/bin/python benchmarks/autocode_profile.py PROJECT [--unit passage|sentence] [--scanners]

PROJECT is an imported project (for example one kept by ``benchmarks/run.py --keep DIR``);
it is copied to a temporary folder first, so it is never changed. The phases are timed by
wrapping the functions ``autocode`` calls (``time.process_time``), so they add up to the
whole run less the loop around them:

* reading: the five queries per chunk of documents (``run._rows``);
* units: each document's ``rules.Document`` (token ends, spans, roles; ``run.rules_document``);
* matching: ``RuleSet.match_documents`` (a chunk of documents at once), of which ``scan`` is the automaton pass;
* evidence: the proposals' evidence JSON (``run._EvidenceJSON.unit``);
* writing: comparing with the stored proposals and inserting them (``run.sync_proposals``).

``--scanners`` also times multi-pattern scanners over the same folded documents and keys:
pyahocorasick (what ``rules._Scanner`` uses, over UTF-32 "wide" text) and, when installed,
``ahocorasick_rs`` (``pip install ahocorasick-rs``), each with its matches turned into numpy
arrays, and checks that they find the same occurrences.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            t0 = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.process_time() - t0
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(owner, name, timed)


ORDER = ["reading (queries)", "units (rules_document)", "matching (match_document)",
         "  of which the automaton pass (scan)", "evidence JSON", "writing (sync_proposals)"]


def profile(project_dir: Path, unit: str) -> None:
    t0 = time.process_time()
    from qualcode.autocode import rules, run
    from qualcode.project import Project

    t_import = time.process_time() - t0
    timer = Timer()
    timer.wrap(run, "_rows", "reading (queries)")
    timer.wrap(run, "rules_document", "units (rules_document)")
    timer.wrap(rules.RuleSet, "match_documents", "matching (match_document)")
    timer.wrap(rules._Scanner, "scan", "  of which the automaton pass (scan)")
    timer.wrap(run._EvidenceJSON, "unit", "evidence JSON")
    timer.wrap(run, "sync_proposals", "writing (sync_proposals)")
    t0 = time.process_time()
    project = Project(project_dir)
    codebook = project.codebook()
    t_open = time.process_time() - t0
    t0 = time.process_time()
    report = run.autocode(project, codebook, unit=unit)
    total = time.process_time() - t0
    project.close()
    print(f"{report.documents} documents, {report.units} {unit}s, {report.characters:,} characters, "
          f"{report.added} added, {report.unchanged} unchanged")
    print(f"{'imports (qualcode, SQLAlchemy, numpy)':45s} {t_import:7.2f} s")
    print(f"{'open the project, load the codebook':45s} {t_open:7.2f} s")
    print(f"{'autocode()':45s} {total:7.2f} s   {report.characters / total / 1e6:.2f} M chars/s")
    for label in ORDER:
        if label in timer.seconds:
            print(f"  {label:43s} {timer.seconds[label]:7.2f} s   ({timer.calls[label]} calls)")
    accounted = sum(s for label, s in timer.seconds.items() if not label.startswith("  "))
    print(f"  {'the rest (compiling the rules, commits, loop)':43s} {total - accounted:7.2f} s")


def scanners(project_dir: Path) -> None:
    import sqlite3
    from itertools import chain

    import numpy as np

    from qualcode.autocode.rules import _wide, compile_rules
    from qualcode.project import Project
    from qualcode.text.script import fold

    project = Project(project_dir)
    scanner = compile_rules(project.codebook())._scanner()
    assert scanner is not None
    db = project.root / "qualcode.db"
    texts = [fold(text) for (text,) in sqlite3.connect(db).execute("SELECT text FROM documents ORDER BY id")]
    n = sum(map(len, texts))
    keys = [""] * len(scanner.length)
    for wide_key, i in scanner.automaton.items():
        keys[i] = wide_key.encode("latin-1").decode("utf-32-be")
    print(f"{len(texts)} documents, {n:,} characters, {len(keys)} keys")

    t0 = time.process_time()
    reference = []
    for text in texts:
        raw = np.fromiter(chain.from_iterable(scanner.automaton.iter(_wide(text))), dtype=np.int64).reshape(-1, 2)
        last = raw[:, 0] + 1
        whole = (last & 3) == 0
        reference.append((last[whole] >> 2, raw[whole, 1]))
    seconds = time.process_time() - t0
    found = sum(len(e) for e, _ in reference)
    print(f"{'pyahocorasick, wide text -> numpy':40s} {seconds:6.2f} s  {n / seconds / 1e6:5.1f} M chars/s  "
          f"{found:,} occurrences")
    try:
        import ahocorasick_rs
    except ImportError:
        print("ahocorasick_rs is not installed")
        return
    automaton = ahocorasick_rs.AhoCorasick(keys)
    t0 = time.process_time()
    arrays = [np.array(automaton.find_matches_as_indexes(text, overlapping=True), dtype=np.int64).reshape(-1, 3)
              for text in texts]
    seconds = time.process_time() - t0
    print(f"{'ahocorasick_rs, str -> numpy':40s} {seconds:6.2f} s  {n / seconds / 1e6:5.1f} M chars/s  "
          f"{sum(map(len, arrays)):,} occurrences")
    same = 0
    for (end, key), found_rs in zip(reference, arrays):
        order = np.lexsort((found_rs[:, 1], found_rs[:, 2]))  # by end, the longer key first: pyahocorasick's order
        same += np.array_equal(end, found_rs[order, 2]) and np.array_equal(key, found_rs[order, 0])
    print(f"same occurrences in the same order (after sorting) in {same} of {len(texts)} documents")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--unit", choices=["passage", "sentence"], default="passage")
    ap.add_argument("--scanners", action="store_true", help="also compare multi-pattern scanners")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "project"
        shutil.copytree(args.project, copy)
        profile(copy, args.unit)
        if args.scanners:
            scanners(copy)


if __name__ == "__main__":
    main()
