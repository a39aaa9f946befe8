"""qualcode benchmarks: a synthetic N-interview corpus, timed against raw jieba (issue 9).

Every step runs as its own subprocess (through a tiny launcher, see ``_LAUNCHER``), timed
by wall clock, with its peak memory taken from the kernel (``wait4`` rusage: the largest
single process, workers included) and from a 10 Hz sampler of the whole process tree's RSS
(parent + ``--jobs`` workers together); the larger of the two is reported.

    python benchmarks/run.py                 # 1,000 interviews (about 6 million characters)
    python benchmarks/run.py --smoke         # 20 interviews, well under a minute (CI)
    python benchmarks/run.py --keep /tmp/b   # keep corpus and projects; reuse the corpus next time
    python benchmarks/run.py --profile /tmp/prof   # also profile import and autocode (pyinstrument)

Targets (issue 9) are judged for the full corpus; a smoke run prints them too, but its
figures are dominated by start-up costs.
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
    for path, reason in collect([corpus], manifest):
        if reason:
            continue
        parsed = parse(read_source(path))
        turns = [t.text for t in parsed.turns if t.text.strip()]
        if turns:
            texts.append("\n".join(turns))
    return texts


def internal_jieba(corpus: Path) -> dict:
    """Raw jieba.lcut over the stored text: dictionary load, then segmentation (parsing untimed)."""
    import logging

    texts = _document_texts(corpus)
    import jieba

    jieba.setLogLevel(logging.WARNING)
    t0, c0 = time.perf_counter(), time.process_time()
    jieba.initialize()
    t1 = time.perf_counter()
    tokens = 0
    for text in texts:
        tokens += len(jieba.lcut(text))
    t2, c2 = time.perf_counter(), time.process_time()
    return {"documents": len(texts), "characters": sum(map(len, texts)), "tokens": tokens,
            "init_seconds": t1 - t0, "cut_seconds": t2 - t1, "cpu_seconds": c2 - c0}


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


def _fresh_project(bench: Bench, name: str) -> Path:
    path = bench.work / name
    if path.exists():
        shutil.rmtree(path)
    bench.run(f"init {name}", bench.qualcode() + ["init", str(path)])
    return path


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
    try:
        corpus = _corpus(bench)
        files = [p for p in corpus.rglob("*") if p.is_file() and ".generator" not in p.parts and p.name != "manifest.csv"]
        bench.info.update(interviews=len(files), corpus_bytes=sum(p.stat().st_size for p in files))

        # 1. raw jieba over the text qualcode stores
        jstep, jieba_figs = bench.internal("raw jieba.lcut", "jieba", corpus)
        jieba_total = jieba_figs["init_seconds"] + jieba_figs["cut_seconds"]
        bench.info["jieba"] = jieba_figs
        chars = jieba_figs["characters"]
        jieba_cpu = jieba_figs["cpu_seconds"]
        bench.results.append(Result(
            "raw jieba.lcut", jieba_total, jieba_cpu,
            f"{chars / 1e6:.2f} M chars, {chars / jieba_figs['cut_seconds'] / 1e6:.2f} M chars/s "
            f"(dictionary load {jieba_figs['init_seconds']:.2f} s)", jstep.peak, "reference", ""))

        # 2. import, single process and --jobs 2
        manifest = corpus / "manifest.csv"
        proj = _fresh_project(bench, "project")
        imp1 = bench.run("import", q + ["--project", str(proj), "import", str(corpus), "--manifest", str(manifest)])
        proj2 = _fresh_project(bench, "project-jobs2")
        imp2 = bench.run("import --jobs 2", q + ["--project", str(proj2), "import", str(corpus), "--manifest",
                                                  str(manifest), "--jobs", "2"])
        for step in (imp1, imp2):
            summary = step.stdout.strip().splitlines()[-1] if step.stdout.strip() else ""
            if not re.match(rf"{len(files)} imported", summary):
                print(f"warning: {step.name}: {summary!r} (expected {len(files)} imported)", file=sys.stderr)
        r1, r2 = imp1.seconds / jieba_total, imp2.seconds / jieba_total
        bench.results.append(Result("qualcode import", imp1.seconds, imp1.cpu_seconds,
                                    f"{r1:.2f} × jieba (by CPU time {imp1.cpu_seconds / jieba_cpu:.2f} ×)", imp1.peak,
                                    "≤ 1.5 × jieba", "PASS" if r1 <= 1.5 else "MISS"))
        bench.results.append(Result("qualcode import --jobs 2", imp2.seconds, imp2.cpu_seconds,
                                    f"{r2:.2f} × jieba", imp2.peak,
                                    "< 1.0 × jieba", "PASS" if r2 < 1.0 else "MISS"))
        with sqlite3.connect(proj / "qualcode.db") as con:
            docs, stored = con.execute("select count(*), coalesce(sum(n_chars), 0) from documents").fetchone()
            passages = con.execute("select count(*) from passages").fetchone()[0]
            speech = con.execute("select coalesce(sum(\"end\" - start), 0) from passages").fetchone()[0]
        bench.info.update(documents=docs, stored_chars=stored, passages=passages, passage_chars=speech)

        # 3. autocode from stored tokens
        ac = bench.run("autocode", q + ["--project", str(proj), "autocode"])
        rate = speech / ac.seconds
        with sqlite3.connect(proj / "qualcode.db") as con:
            bench.info["codings"] = con.execute("select count(*) from codings").fetchone()[0]
        if "Re-segmented" in ac.stdout:
            print("warning: autocode re-segmented documents; tokens were not reused", file=sys.stderr)
        bench.results.append(Result("autocode (passages)", ac.seconds, ac.cpu_seconds,
                                    f"{rate / 1e6:.2f} M chars/s (by CPU time {speech / ac.cpu_seconds / 1e6:.2f})", ac.peak,
                                    "≥ 10 M chars/s", "PASS" if rate >= 10e6 else "MISS"))
        mstep, mfigs = bench.internal("autocode breakdown", "match", proj)
        bench.info["autocode_breakdown"] = mfigs
        bench.results.append(Result(
            "  in-process: RuleSet.match_document only", mfigs["match_seconds"], None,
            f"{mfigs['characters'] / mfigs['match_seconds'] / 1e6:.2f} M chars/s (read {mfigs['read_seconds']:.2f} s, "
            f"units {mfigs['units_seconds']:.2f} s, setup {mfigs['setup_seconds']:.2f} s)", mstep.peak, "diagnostic", ""))

        # 4. reports (being written in issue 5: use what exists)
        reports = _report_commands(bench)
        if reports is None or "all" not in reports:
            for label, target in (("report all --no-plots", "< 5 s"), ("report all (with plots)", "")):
                bench.results.append(Result(label, None, None, "not available yet", None, target, "n/a"))
        else:
            help_all = _help_of(bench, "report", "all")
            # --plots/--no-plots, --no-plots alone, or --plots alone (plots off by default)
            with_plots = ["--plots"] if re.search(r"--plots\b", help_all) else []
            no_plots = ["--no-plots"] if "--no-plots" in help_all else ([] if with_plots else None)
            if no_plots is not None:
                s = _run_report(bench, proj, "all", "report all --no-plots", no_plots)
                bench.results.append(Result(_label(s, "report all " + (" ".join(no_plots) or "(no plots)")), s.seconds if s.ok else None, s.cpu_seconds,
                                            "" if s.ok else f"failed (exit {s.returncode})", s.peak, "< 5 s",
                                            ("PASS" if s.seconds < 5 else "MISS") if s.ok else "MISS"))
            s = _run_report(bench, proj, "all", "report all with plots", with_plots)
            bench.results.append(Result(_label(s, "report all " + (" ".join(with_plots) or "(with plots)")),
                                        s.seconds if s.ok else None, s.cpu_seconds,
                                        "" if s.ok else f"failed (exit {s.returncode})", s.peak, "", ""))
        for pattern, label in ((r"co-?occ", "co-occurrence"), (r"satur", "saturation")):
            sub = next((n for n in (reports or {}) if re.search(pattern, n)), None)
            if sub is None:
                bench.results.append(Result(f"report {label}", None, None, "not available yet", None, "< 1 s", "n/a"))
                continue
            s = _run_report(bench, proj, sub, f"report {sub}", [])
            bench.results.append(Result(_label(s, f"report {sub}"), s.seconds if s.ok else None, s.cpu_seconds,
                                        "" if s.ok else f"failed (exit {s.returncode})", s.peak, "< 1 s",
                                        ("PASS" if s.seconds < 1 else "MISS") if s.ok else "MISS"))

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
        big = max((s for s in bench.steps), key=lambda s: s.peak)
        bench.results.append(Result("peak memory, any step", None, None, f"largest: {big.name}", big.peak, "< 1.5 GiB",
                                    "PASS" if big.peak < 1.5 * GIB else "MISS"))
        bench.info["project_bytes"] = _size(proj)
        bench.info["db_bytes"] = sum(f.stat().st_size for f in proj.glob("qualcode.db*"))
        bench.results.append(Result("project size on disk", None, None,
                                    f"{bench.info['project_bytes'] / MIB:.1f} MiB (database "
                                    f"{bench.info['db_bytes'] / MIB:.1f} MiB; corpus {bench.info['corpus_bytes'] / MIB:.1f} MiB)",
                                    None, "", ""))

        if args.profile:
            profile(bench, corpus, Path(args.profile).resolve())
    finally:
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
    if max(i["loadavg_start"][0], (i.get("loadavg_end") or [0])[0]) > (i["nproc"] or 1):
        lines.append("NOTE: the load average exceeded the number of CPUs (other processes were running): wall-clock "
                     "figures are inflated; the CPU column and the CPU-time ratios are the fairer comparison")
    lines.append(f"total {i['total_seconds']} s (work dir {i['work']}{'' if bench.args.keep else ', removed'})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="qualcode benchmarks against raw jieba (issue 9).")
    ap.add_argument("--interviews", type=int, default=None, help="interviews to generate (default 1000; smoke 20)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chars", type=int, default=6000, help="mean characters of speech per interview")
    ap.add_argument("--keep", metavar="DIR", help="keep corpus, projects and logs in DIR (a kept corpus is reused)")
    ap.add_argument("--smoke", action="store_true", help="a small run (20 interviews) for CI")
    ap.add_argument("--profile", metavar="DIR", help="also profile import and autocode with pyinstrument")
    ap.add_argument("--json", metavar="FILE", help="write all figures as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--verbose", "-v", action="store_true", help="print each step as it finishes")
    ap.add_argument("--internal", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.internal:
        sys.path.insert(0, str(ROOT))
        kind, path = args.internal
        figs = {"jieba": internal_jieba, "match": internal_match}[kind](Path(path))
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
