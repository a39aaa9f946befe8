"""qualcode benchmarks: a synthetic N-interview corpus, timed against raw jieba (issues 9, 21).

Every step runs as its own subprocess (through a tiny launcher, see ``_LAUNCHER``), timed
by wall clock, with its peak memory taken from the kernel (``wait4`` rusage: the largest
single process, workers included) and from a 10 Hz sampler of the whole process tree's RSS
(parent + ``--jobs`` workers together); the larger of the two is reported.

    python benchmarks/run.py                 # 1,000 interviews (about 6 million characters)
    python benchmarks/run.py --smoke         # 20 interviews, well under a minute (CI)
    python benchmarks/run.py --keep /tmp/b   # keep corpus and projects; reuse the corpus next time
    python benchmarks/run.py --profile /tmp/prof   # also profile import and autocode (pyinstrument)
    python benchmarks/run.py --interviews 10000 --postgres auto   # = make benchmark SIZE=10000

It reports raw jieba and rjieba (jieba-rs), import (a new project's jieba-rs, jieba, --jobs 2),
autocode, every report, ``docs list``, ``code add``, peak memory and the database size, on
SQLite and, with ``--postgres``, on PostgreSQL as well. Targets (issue 21) are judged for the
size run; a smoke run prints them too, but its figures are dominated by start-up costs.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GIB = 1024 ** 3
MIB = 1024 ** 2


# -- running one step -------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    argv: list[str]
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # user + sys of the process and its reaped children
    max_rss: int = 0  # bytes, largest single process (kernel's ru_maxrss)
    tree_rss: int = 0  # bytes, largest sampled sum over the process tree
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""

    @property
    def peak(self) -> int:
        return max(self.max_rss, self.tree_rss)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _tree_rss(pid: int) -> int:
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += _rss(p)
        todo += _children(p)
    return total


# A tiny launcher between the benchmark and each step. The kernel starts a child's
# ru_maxrss at its parent's RSS (fork copies the high-water mark, exec keeps it), so
# measuring straight from this process would report its own size for every small step;
# the launcher is small, forks the step and reports the step's rusage and wall time.
_LAUNCHER = """
import json, os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
t = time.perf_counter() - t0
with open(out, "w") as fh:
    json.dump({"seconds": t, "status": status, "cpu": ru.ru_utime + ru.ru_stime, "maxrss": ru.ru_maxrss}, fh)
sys.exit(0)
"""


def run_step(name: str, argv: list[str], logs: Path, env: dict | None = None, check: bool = True) -> Step:
    """Run ``argv`` to completion; time it and record its peak memory."""
    step = Step(name, [str(a) for a in argv])
    safe = re.sub(r"[^\w.-]+", "_", name)
    out_path, err_path, ru_path = logs / f"{safe}.out", logs / f"{safe}.err", logs / f"{safe}.rusage.json"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _LAUNCHER, str(ru_path), *step.argv],
                                stdout=out, stderr=err, env=env, cwd=logs)
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                peak[0] = max(peak[0], sum(_tree_rss(c) for c in _children(proc.pid)))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        proc.wait()
        done.set()
        sampler.join()
    figs = json.loads(ru_path.read_text())
    step.seconds = figs["seconds"]
    step.returncode = os.waitstatus_to_exitcode(figs["status"])
    step.cpu_seconds = figs["cpu"]
    step.max_rss = figs["maxrss"] * 1024  # KiB on Linux
    step.tree_rss = peak[0]
    step.stdout = out_path.read_text(encoding="utf-8", errors="replace")
    step.stderr = err_path.read_text(encoding="utf-8", errors="replace")
    if check and not step.ok:
        tail = (step.stderr or step.stdout)[-2000:]
        raise SystemExit(f"step {name!r} failed (exit {step.returncode}): {' '.join(step.argv)}\n{tail}")
    return step


# -- steps that run inside a child process (python run.py --internal KIND ...) ---------------
def _document_texts(corpus: Path) -> list[str]:
    """documents.text exactly as 'qualcode import' stores it (see ingest.pipeline.prepare)."""
    from qualcode.ingest.manifest import load_manifest
    from qualcode.ingest.pipeline import collect
    from qualcode.ingest.readers import read_source
    from qualcode.ingest.styles import parse

    manifest = load_manifest(corpus / "manifest.csv")
    texts = []
    for path, reason, *_ in collect([corpus], manifest):
        if reason:
            continue
        parsed = parse(read_source(path))
        turns = [t.text for t in parsed.turns if t.text.strip()]
        if turns:
            texts.append("\n".join(turns))
    return texts


def internal_segment(corpus: Path) -> dict:
    """Raw jieba.lcut and rjieba.cut (jieba-rs) over the stored text, no user words: dictionary
    load, then segmentation (parsing untimed); the boundaries they disagree on."""
    import logging

    texts = _document_texts(corpus)
    figs: dict = {"documents": len(texts), "characters": sum(map(len, texts))}
    import jieba
    import rjieba

    jieba.setLogLevel(logging.WARNING)
    cuts = {}
    for key, init, cut in (("jieba", jieba.initialize, jieba.lcut), ("rjieba", rjieba.Jieba, None)):
        t0, c0 = time.perf_counter(), time.process_time()
        made = init()
        t1 = time.perf_counter()
        cutter = cut or (lambda text, tk=made: tk.cut(text, True))
        cuts[key] = [cutter(text) for text in texts]
        t2, c2 = time.perf_counter(), time.process_time()
        figs.update({f"{key}_init": t1 - t0, f"{key}_cut": t2 - t1, f"{key}_cpu": c2 - c0,
                     f"{key}_tokens": sum(map(len, cuts[key]))})
    same = union = 0
    for a, b in zip(cuts["jieba"], cuts["rjieba"]):
        ends_a = set(accumulate(map(len, a)))
        ends_b = set(accumulate(map(len, b)))
        same += len(ends_a & ends_b)
        union += len(ends_a | ends_b)
    figs["boundary_jaccard"] = same / max(union, 1)
    return figs


def internal_match(project_dir: Path) -> dict:
    """Where autocode's time goes, without the profiler: set-up, reading the stored passages
    and tokens, building each document's units, and matching (``RuleSet.match_document``)."""
    from sqlalchemy import select

    from qualcode.autocode.rules import compile_rules
    from qualcode.autocode.run import rules_document
    from qualcode.project import Project
    from qualcode.store import schema as t

    t0 = time.perf_counter()
    project = Project(project_dir)
    ruleset = compile_rules(project.codebook())
    ruleset._scanner()  # built on first use; count it as set-up
    t1 = time.perf_counter()
    read = build = match_s = 0.0
    chars = units = hits = 0
    p = t.passages
    with project.store.read() as conn:
        roles = dict(conn.execute(select(t.speakers.c.id, t.speakers.c.role)).all())
        for doc_id, text in conn.execute(select(t.documents.c.id, t.documents.c.text).order_by(t.documents.c.id)).all():
            a = time.perf_counter()
            rows = conn.execute(select(p.c.id, p.c.start, p.c.end, p.c.speaker_id, p.c.tokens)
                                .where(p.c.document_id == doc_id).order_by(p.c.seq)).all()
            b = time.perf_counter()
            document, _ = rules_document(text, rows, {}, "passage", {}, roles)
            c = time.perf_counter()
            found = ruleset.match_document(document)
            d = time.perf_counter()
            hits += sum(map(len, found))
            chars += sum(e - s for s, e in document.spans)
            units += len(document.spans)
            read += b - a
            build += c - b
            match_s += d - c
    return {"setup_seconds": t1 - t0, "read_seconds": read, "units_seconds": build, "match_seconds": match_s,
            "characters": chars, "units": units, "hits": hits}


# -- the benchmark ------------------------------------------------------------------------------
@dataclass
class Result:
    label: str
    seconds: float | None
    cpu: float | None  # CPU seconds (user + sys, workers included): robust to other load
    measure: str  # ratio or rate as shown
    peak: int | None
    target: str
    verdict: str  # PASS / MISS / n/a / not available yet


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    logs: Path
    steps: list[Step] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def qualcode(self) -> list[str]:
        script = Path(sys.executable).parent / "qualcode"
        return [str(script)] if script.exists() else [sys.executable, "-m", "qualcode.cli"]

    def run(self, name: str, argv: list[str], check: bool = True) -> Step:
        env = {k: v for k, v in os.environ.items() if k not in ("QUALCODE_PROJECT", "QUALCODE_DB")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        step = run_step(name, argv, self.logs, env=env, check=check)
        self.steps.append(step)
        if self.args.verbose:
            print(f"  {name}: {step.seconds:.2f} s, peak {step.peak / MIB:.0f} MiB", file=sys.stderr)
        return step

    def internal(self, name: str, kind: str, arg: Path) -> tuple[Step, dict]:
        step = self.run(name, [sys.executable, str(Path(__file__).resolve()), "--internal", kind, str(arg)])
        return step, json.loads(step.stdout.strip().splitlines()[-1])


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "nproc": os.cpu_count(),
            "cpu": cpu, "ram_gib": round(mem / GIB, 1), "python": platform.python_version(),
            "platform": platform.platform(), "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _corpus(bench: Bench) -> Path:
    """Generate the corpus (or reuse a kept one made with the same parameters)."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.generator import generate

    args = bench.args
    corpus = bench.work / "corpus"
    params = {"interviews": args.interviews, "seed": args.seed, "chars": args.chars, "styles": []}
    stamp = corpus / ".generator" / "params.json"
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == params:
        bench.info["corpus_generated_seconds"] = None
        return corpus
    if corpus.exists():
        shutil.rmtree(corpus)
    t0 = time.perf_counter()
    generate(corpus, args.interviews, args.seed, args.chars)
    bench.info["corpus_generated_seconds"] = round(time.perf_counter() - t0, 2)
    return corpus


def _report_commands(bench: Bench) -> dict[str, list[str]] | None:
    """The 'report' subcommands offered by this qualcode, or None when there is no 'report'."""
    step = bench.run("report --help", bench.qualcode() + ["report", "--help"], check=False)
    if not step.ok:
        return None
    names = []
    in_commands = False
    for line in step.stdout.splitlines():
        if line.strip().lower().startswith("commands"):
            in_commands = True
            continue
        if in_commands and line.startswith("  ") and line.strip():
            names.append(line.split()[0])
    return {n: [] for n in names}


def _help_of(bench: Bench, *args: str) -> str:
    return bench.run("help " + " ".join(args), bench.qualcode() + list(args) + ["--help"], check=False).stdout


def _run_report(bench: Bench, project: Path, sub: str, label: str, extra: list[str]) -> Step:
    """Run ``qualcode report SUB``; give it --output when it takes one."""
    help_text = _help_of(bench, "report", sub)
    argv = bench.qualcode() + ["--project", str(project), "report", sub]
    if "--proposed" in help_text:
        argv.append("--proposed")  # reports count reviewed codings by default; autocode made proposals only
    if "--output" in help_text:
        out = bench.work / "reports" / re.sub(r"\W+", "-", label)
        if out.exists():
            shutil.rmtree(out)
        if sub == "all":
            out.mkdir(parents=True)
        else:  # a single table: a file when the command wants one, else a directory
            out.parent.mkdir(parents=True, exist_ok=True)
            if "DIRECTORY" not in help_text.upper().split("--OUTPUT", 1)[-1][:80]:
                out = out.with_suffix(".csv")
        argv += ["--output", str(out)]
    return bench.run(label, argv + extra, check=False)


def _label(step: Step, label: str) -> str:
    return label + (" --proposed" if "--proposed" in step.argv else "")


def _rate(chars: int, seconds: float | None) -> str:
    return "—" if not seconds else f"{chars / seconds / 1e6:.2f} M chars/s"


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


class Postgres:
    """A PostgreSQL server for the benchmark: the URL given, or a throwaway one started with
    ``scripts/pg-test-server`` (``--postgres auto``) and stopped at the end. One fresh
    database per project."""

    def __init__(self, spec: str):
        self.dir = None
        if spec == "auto":
            out = subprocess.run(["bash", str(ROOT / "scripts" / "pg-test-server"), "start"], capture_output=True,
                                 text=True, check=True).stdout
            found = dict(re.findall(r"export (\w+)=(\S+)", out))
            self.url, self.dir = found["QUALCODE_TEST_PG"], found["QUALCODE_TEST_PG_DIR"]
        else:
            self.url = spec

    def database(self, name: str) -> str:
        import psycopg
        from sqlalchemy.engine import make_url

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    @staticmethod
    def size(url: str) -> int:
        import psycopg

        with psycopg.connect(url) as conn:
            return conn.execute("select pg_database_size(current_database())").fetchone()[0]

    def stop(self) -> None:
        if self.dir:
            subprocess.run(["bash", str(ROOT / "scripts" / "pg-test-server"), "stop", self.dir], capture_output=True)


def _fresh_project(bench: Bench, name: str, db: str | None = None, segmenter: str | None = None) -> Path:
    path = bench.work / name
    if path.exists():
        shutil.rmtree(path)
    bench.run(f"init {name}", bench.qualcode() + ["init", str(path)] + (["--db", db] if db else []))
    if segmenter:  # a new project segments with jieba-rs; the setting picks the other one
        config = path / "qualcode.toml"
        text = re.sub(r'(?m)^segmenter = .*\n', "", config.read_text(encoding="utf-8"))
        config.write_text(text.replace("[project]\n", f'[project]\nsegmenter = "{segmenter}"\n', 1), encoding="utf-8")
    return path


def _import(bench: Bench, label: str, proj: Path, corpus: Path, n_files: int, extra: list[str] = ()) -> Step:
    step = bench.run(label, bench.qualcode() + ["--project", str(proj), "import", str(corpus), "--manifest",
                                                 str(corpus / "manifest.csv"), *extra])
    summary = step.stdout.strip().splitlines()[-1] if step.stdout.strip() else ""
    if not re.match(rf"{n_files} imported", summary):
        print(f"warning: {label}: {summary!r} (expected {n_files} imported)", file=sys.stderr)
    return step


def _median_steps(bench: Bench, label: str, argvs: list[list[str]]) -> tuple[float, int]:
    steps = [bench.run(f"{label} #{i}", argv, check=False) for i, argv in enumerate(argvs)]
    failed = [s for s in steps if not s.ok]
    if failed:
        print(f"warning: {label}: {failed[0].stderr.strip()[-300:] or failed[0].stdout.strip()[-300:]}", file=sys.stderr)
    return statistics.median(s.seconds for s in steps), max(s.peak for s in steps)


def _backend(bench: Bench, backend: str, db: str | None, corpus: Path, n_files: int) -> dict:
    """Import, autocode, every report, ``docs list`` and ``code add`` on one backend; figures by name."""
    q = bench.qualcode()
    tag = "" if backend == "SQLite" else f" [{backend}]"
    figs: dict = {}
    proj = _fresh_project(bench, "project" if backend == "SQLite" else "project-pg", db)
    imp = _import(bench, "import" + tag, proj, corpus, n_files)
    if db is None:  # the SQLite run comes first: the corpus's figures from its database
        with sqlite3.connect(proj / "qualcode.db") as con:
            docs, chars = con.execute("select count(*), coalesce(sum(n_chars), 0) from documents").fetchone()
            passages = con.execute("select count(*) from passages").fetchone()[0]
            speech = con.execute("select coalesce(sum(\"end\" - start), 0) from passages").fetchone()[0]
        bench.info.update(documents=docs, stored_chars=chars, passages=passages, passage_chars=speech)
    chars, speech = bench.info["stored_chars"], bench.info["passage_chars"]
    figs["import"] = imp.seconds
    bench.results.append(Result(f"qualcode import (jieba-rs){tag}", imp.seconds, imp.cpu_seconds,
                                f"{_rate(chars, imp.seconds)} (by CPU time {_rate(chars, imp.cpu_seconds)})", imp.peak,
                                "≥ 2 M chars/s", _verdict(chars / imp.seconds >= 2e6)))

    ac = bench.run("autocode" + tag, q + ["--project", str(proj), "autocode"])
    figs["autocode"] = ac.seconds
    if "Re-segmented" in ac.stdout:
        print("warning: autocode re-segmented documents; tokens were not reused", file=sys.stderr)
    bench.results.append(Result("autocode (passages)" + tag, ac.seconds, ac.cpu_seconds,
                                f"{_rate(speech, ac.seconds)} (by CPU time {_rate(speech, ac.cpu_seconds)})", ac.peak,
                                "≥ 10 M chars/s", _verdict(speech / ac.seconds >= 10e6)))
    if backend == "SQLite":
        with sqlite3.connect(proj / "qualcode.db") as con:
            bench.info["codings"] = con.execute("select count(*) from codings").fetchone()[0]
            bench.info["code_for_code_add"] = con.execute("select code from codings order by id limit 1").fetchone()[0]

    reports = _report_commands(bench) or {}
    for sub in reports:
        if sub == "all":
            help_all = _help_of(bench, "report", "all")
            runs = [("--no-plots", ["--no-plots"], "< 10 s", 10.0), ("(with plots)", [], "", None)]
            if bench.args.smoke:
                runs = runs[:1]  # the plots alone take longer than the smoke budget
            for what, extra, target, limit in runs:
                s = _run_report(bench, proj, "all", f"report all {what}{tag}", extra if "--no-plots" in help_all else [])
                figs[f"report all {what}"] = s.seconds if s.ok else None
                bench.results.append(Result(_label(s, f"report all {what}") + tag, s.seconds if s.ok else None,
                                            s.cpu_seconds, "" if s.ok else f"failed (exit {s.returncode})", s.peak,
                                            target, ("" if limit is None else _verdict(s.ok and s.seconds < limit))))
            continue
        s = _run_report(bench, proj, sub, f"report {sub}{tag}", [])
        figs[f"report {sub}"] = s.seconds if s.ok else None
        bench.results.append(Result(_label(s, f"report {sub}") + tag, s.seconds if s.ok else None, s.cpu_seconds,
                                    "" if s.ok else f"failed (exit {s.returncode}): {s.stderr.strip()[-80:]}", s.peak,
                                    "< 2 s", _verdict(s.ok and s.seconds < 2)))

    n = 3 if bench.args.smoke else 5
    base = q + ["--project", str(proj)]
    t, peak = _median_steps(bench, "docs list" + tag, [base + ["docs", "list"]] * n)
    figs["docs list"] = t
    bench.results.append(Result("docs list (median)" + tag, t, None, "", peak, "< 0.3 s", _verdict(t < 0.3)))
    docs = bench.info["documents"]
    passages = [f"{1 + (docs * (i + 1)) // (n + 1)}:3" for i in range(n)]  # documents spread over the project
    code = bench.info["code_for_code_add"]
    t, peak = _median_steps(bench, "code add" + tag, [base + ["code", "add", p, code] for p in passages])
    figs["code add"] = t
    bench.results.append(Result("code add (median)" + tag, t, None, "", peak, "< 0.3 s", _verdict(t < 0.3)))

    if db is None:
        size = sum(f.stat().st_size for f in proj.glob("qualcode.db*"))
        bench.info["project_bytes"] = _size(proj)
    else:
        size = Postgres.size(db)
    figs["db_bytes"] = size
    bench.results.append(Result("database size" + tag, None, None, f"{size / MIB:.1f} MiB for {docs:,} interviews",
                                None, "", ""))
    figs["project"] = proj
    return figs


def benchmark(args: argparse.Namespace) -> Bench:
    if args.keep:
        work = Path(args.keep).resolve()
        work.mkdir(parents=True, exist_ok=True)
    else:
        work = Path(tempfile.mkdtemp(prefix="qualcode-bench-"))
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, work, logs)
    bench.info.update(machine())
    t_start = time.perf_counter()
    q = bench.qualcode()
    pg = None
    try:
        corpus = _corpus(bench)
        files = [p for p in corpus.rglob("*") if p.is_file() and ".generator" not in p.parts and p.name != "manifest.csv"]
        bench.info.update(interviews=len(files), corpus_bytes=sum(p.stat().st_size for p in files))

        # 1. raw segmenters over the text qualcode stores (the floor import cannot go below)
        sstep, seg = bench.internal("raw segmenters", "segment", corpus)
        bench.info["segment"] = seg
        chars = seg["characters"]
        for name, key in (("raw jieba.lcut", "jieba"), ("raw rjieba.cut (jieba-rs)", "rjieba")):
            bench.results.append(Result(
                name, seg[f"{key}_init"] + seg[f"{key}_cut"], seg[f"{key}_cpu"],
                f"{chars / 1e6:.2f} M chars, {_rate(chars, seg[f'{key}_cut'])} (dictionary load {seg[f'{key}_init']:.2f} s; "
                f"by CPU time {_rate(chars, seg[f'{key}_cpu'])})",
                sstep.peak, "reference", ""))

        # 2. SQLite: import (jieba-rs, the default of a new project), autocode, reports, everyday commands
        sq = _backend(bench, "SQLite", None, corpus, len(files))
        proj = sq.pop("project")
        bench.info["sqlite"] = sq

        # 3. the other import variants, on SQLite
        rs_cut = seg["rjieba_cut"] + seg["rjieba_init"]
        chars = bench.info["stored_chars"]
        pj = _fresh_project(bench, "project-jieba", segmenter="jieba")
        imp = _import(bench, "import (jieba)", pj, corpus, len(files))
        jieba_total = seg["jieba_init"] + seg["jieba_cut"]
        bench.results.append(Result("qualcode import (jieba)", imp.seconds, imp.cpu_seconds,
                                    f"{_rate(chars, imp.seconds)}; {imp.seconds / jieba_total:.2f} × raw jieba", imp.peak,
                                    "", ""))
        shutil.rmtree(pj, ignore_errors=True)
        p2 = _fresh_project(bench, "project-jobs2")
        imp2 = _import(bench, "import --jobs 2", p2, corpus, len(files), ["--jobs", "2"])
        bench.results.append(Result("qualcode import --jobs 2 (jieba-rs)", imp2.seconds, imp2.cpu_seconds,
                                    f"{_rate(chars, imp2.seconds)}; {sq['import'] / imp2.seconds:.2f} × faster than one process",
                                    imp2.peak, "faster than one process", _verdict(imp2.seconds < sq["import"])))
        shutil.rmtree(p2, ignore_errors=True)
        bench.info["import_vs_raw_rjieba"] = round(sq["import"] / rs_cut, 2)

        mstep, mfigs = bench.internal("autocode breakdown", "match", proj)
        bench.info["autocode_breakdown"] = mfigs
        bench.results.append(Result(
            "  in-process: RuleSet.match_document only", mfigs["match_seconds"], None,
            f"{_rate(mfigs['characters'], mfigs['match_seconds'])} (read {mfigs['read_seconds']:.2f} s, "
            f"units {mfigs['units_seconds']:.2f} s, setup {mfigs['setup_seconds']:.2f} s)", mstep.peak, "diagnostic", ""))

        # 4. PostgreSQL: the same steps
        if args.postgres:
            try:
                pg = Postgres(args.postgres)
                pgf = _backend(bench, "PostgreSQL", pg.database("qualcode_bench"), corpus, len(files))
                pgf.pop("project")
                bench.info["postgresql"] = pgf
                for key, target in (("import", 2.0), ("autocode", 2.0)):
                    ratio = pgf[key] / sq[key]
                    bench.results.append(Result(f"PostgreSQL ÷ SQLite: {key}", None, None, f"{ratio:.2f} ×", None,
                                                f"< {target:g} ×", _verdict(ratio < target)))
                ratios = [pgf[k] / sq[k] for k in sq if k.startswith("report") and sq[k] and pgf.get(k)]
                if ratios:
                    bench.results.append(Result("PostgreSQL ÷ SQLite: reports", None, None,
                                                f"{min(ratios):.2f}–{max(ratios):.2f} ×", None, "", ""))
            except (subprocess.CalledProcessError, OSError, ImportError) as exc:
                print(f"warning: no PostgreSQL run: {exc}", file=sys.stderr)
                bench.results.append(Result("PostgreSQL", None, None, f"not run ({type(exc).__name__})", None, "", "n/a"))

        # 5. start-up
        n = 3 if args.smoke else 9
        bench.run("warm-up", q + ["--help"])
        help_times = [bench.run(f"qualcode --help #{i}", q + ["--help"]).seconds for i in range(n)]
        pass_times = [bench.run(f"python -c pass #{i}", [sys.executable, "-c", "pass"]).seconds for i in range(n)]
        th, tp = statistics.median(help_times), statistics.median(pass_times)
        bench.results.append(Result("qualcode --help (median)", th, None, f"{th / tp:.1f} × python -c pass ({tp * 1000:.0f} ms)",
                                    max(s.peak for s in bench.steps if s.name.startswith("qualcode --help")),
                                    "< 0.3 s and < 5 ×", "PASS" if th < 0.3 and th / tp < 5 else "MISS"))

        # 6. memory and disk
        # qualcode's own steps: the in-process references hold every token list at once
        big = max((s for s in bench.steps if s.name not in ("raw segmenters", "autocode breakdown")), key=lambda s: s.peak)
        bench.results.append(Result("peak memory, any step", None, None, f"largest: {big.name}", big.peak, "< 2 GiB",
                                    _verdict(big.peak < 2 * GIB)))
        bench.info["db_bytes"] = sq["db_bytes"]
        bench.results.append(Result("project size on disk", None, None,
                                    f"{bench.info['project_bytes'] / MIB:.1f} MiB (corpus {bench.info['corpus_bytes'] / MIB:.1f} MiB)",
                                    None, "", ""))

        if args.profile:
            profile(bench, corpus, Path(args.profile).resolve())
    finally:
        if pg is not None:
            pg.stop()
        bench.info["total_seconds"] = round(time.perf_counter() - t_start, 1)
        bench.info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        bench.info["work"] = str(work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return bench


def profile(bench: Bench, corpus: Path, out: Path) -> None:
    """Import (one process) and autocode again under pyinstrument; text reports in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    prof = _fresh_project(bench, "project-profile")
    py = [sys.executable, "-m", "pyinstrument", "--interval", "0.005", "-r", "text"]
    for name, cmd in (("import", ["import", str(corpus), "--manifest", str(corpus / "manifest.csv")]),
                      ("autocode", ["autocode"])):
        bench.run(f"profile {name}", py + ["-o", str(out / f"{name}.txt"), "-m", "qualcode.cli",
                                          "--project", str(prof)] + cmd)


# -- output -------------------------------------------------------------------------------------
def _fmt_s(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.2f} s"


def _fmt_mem(b: int | None) -> str:
    return "—" if not b else f"{b / MIB:,.0f} MiB"


def table(bench: Bench, markdown: bool = False) -> str:
    head = ["step", "time", "CPU", "measure", "peak RSS", "target", "result"]
    rows = [[r.label, _fmt_s(r.seconds), _fmt_s(r.cpu), r.measure, _fmt_mem(r.peak), r.target, r.verdict]
            for r in bench.results]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines)
    from unicodedata import east_asian_width

    def width(s: str) -> int:
        return sum(2 if east_asian_width(c) in "WF" else 1 for c in s)

    widths = [max(width(r[i]) for r in [head] + rows) for i in range(len(head))]
    out = []
    for k, row in enumerate([head] + rows):
        out.append("  ".join(c + " " * (widths[i] - width(c)) for i, c in enumerate(row)).rstrip())
        if k == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def header(bench: Bench) -> str:
    i = bench.info
    lines = [
        f"qualcode benchmark — {i['date']}",
        f"machine: {i['nproc']} CPUs ({i['cpu']}), {i['ram_gib']} GiB RAM, Python {i['python']}, {i['platform']}",
        f"load average: {i['loadavg_start']} at start, {i.get('loadavg_end')} at end",
    ]
    if "documents" in i:
        lines.append(
            f"corpus: {i['interviews']} interviews (seed {bench.args.seed}), {i['corpus_bytes'] / MIB:.1f} MiB of files; "
            f"{i['documents']} documents, {i['passages']:,} passages, {i['stored_chars']:,} characters stored; "
            f"{i.get('codings', 0):,} codings proposed")
    if "segment" in i:
        lines.append(f"token boundaries of raw jieba and rjieba (no user words): Jaccard {i['segment']['boundary_jaccard']:.5f}")
    if max(i["loadavg_start"][0], (i.get("loadavg_end") or [0])[0]) > (i["nproc"] or 1):
        lines.append("NOTE: the load average exceeded the number of CPUs (other processes were running): wall-clock "
                     "figures are inflated; the CPU column and the CPU-time ratios are the fairer comparison")
    lines.append(f"total {i['total_seconds']} s (work dir {i['work']}{'' if bench.args.keep else ', removed'})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="qualcode benchmarks against raw jieba (issues 9, 21).")
    ap.add_argument("--interviews", type=int, default=None, help="interviews to generate (default 1000; smoke 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chars", type=int, default=6000, help="mean characters of speech per interview")
    ap.add_argument("--keep", metavar="DIR", help="keep corpus, projects and logs in DIR (a kept corpus is reused)")
    ap.add_argument("--smoke", action="store_true", help="a small run (20 interviews) for CI")
    ap.add_argument("--profile", metavar="DIR", help="also profile import and autocode with pyinstrument")
    ap.add_argument("--postgres", metavar="URL", help="also run on PostgreSQL: a server URL whose role may create "
                    "databases, or 'auto' to start a throwaway server with scripts/pg-test-server")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each step as it finishes")
    ap.add_argument("--internal", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.internal:
        sys.path.insert(0, str(ROOT))
        kind, path = args.internal
        figs = {"segment": internal_segment, "match": internal_match}[kind](Path(path))
        print(json.dumps(figs))
        return 0
    if args.interviews is None:
        args.interviews = 20 if args.smoke else 1000
    bench = benchmark(args)
    print(header(bench))
    print()
    print(table(bench, markdown=args.markdown))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "info": bench.info,
            "results": [asdict(r) for r in bench.results],
            "steps": [{k: v for k, v in asdict(s).items() if k not in ("stdout", "stderr")} for s in bench.steps],
        }, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.smoke and bench.info["total_seconds"] >= 60:
        print(f"warning: the smoke run took {bench.info['total_seconds']} s (budget 60 s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
