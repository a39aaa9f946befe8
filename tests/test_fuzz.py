"""A seeded, time-bounded fuzz run (issue 22): malformed transcripts, archives, codebooks,
manifests, settings and .qdpx files go through the command line. Every case must end in a
clean refusal (exit 1-4, one ``Error:`` line, no "internal error") or a success — never exit
70, never a hang — and after every refusal the project must be exactly as it was.

The seed and the number of cases per kind come from QUALCODE_FUZZ_SEED (default 22) and
QUALCODE_FUZZ_CASES (default 12); a failing case names its kind, number and seed, so that it
can be replayed. The tallies are printed (``pytest -s tests/test_fuzz.py``).
"""
from __future__ import annotations

import hashlib
import io
import os
import random
import shutil
import signal
import sqlite3
import zipfile
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.project import Project

SEED = int(os.environ.get("QUALCODE_FUZZ_SEED", "22"))
CASES = int(os.environ.get("QUALCODE_FUZZ_CASES", "12"))
BUDGET_SECONDS = 60  # one case; a case that runs longer counts as a hang
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
NS = 'xmlns="urn:QDA-XML:project:1.0"'

TRANSCRIPT = ("访谈时间：2023年5月1日\n访谈员：社区怎么组织居民？\n受访者：我们社区有党员带头，大家一起商量。\n"
              "访谈员：还有呢？\n受访者：每周开会，楼组长都是党员。\n").encode()
NASTY_TEXT = ["\x00", "\ufeff", "\ud800", "\r", "\r\n", "\u2028", "=_=", "=1+2", "@SUM(1)", "<script>", "\t",
              "𠮷", "👍🏽", "‮", "\x1b[31m", "'", '"', "\\", "{{", "%s", "\u200b", "受访者：", "访谈员：", "[00:01:02]"]
CODEBOOK = """format: 1
name: fuzz
codes:
  - id: governance
    label: {zh: 治理, en: Governance}
    definition: 社区治理
    rules:
      - any: [社区, 党员]
        regex: ['楼组长.{0,4}党员']
    children:
      - id: meeting
        label: {zh: 开会}
        rules:
          - any: [开会, 商量]
"""
REGEXES = ["(.*?){30}x", "(社区|社区)+$", "(.*){20}社区x", "(a+)+", "(?<=a)b", "(a)\\1", "[", "(", "*", "a{99999}",
           "\\p{Han}+", "(?i)社区", ".*", "社区.{0,9999}党员"]
QDE = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="p" origin="fuzz">
<Users><User guid="11111111-0000-4000-8000-000000000001" name="王"/></Users>
<CodeBook><Codes><Code guid="12121212-0000-4000-8000-000000000001" name="治理" isCodable="true">
<Code guid="12121212-0000-4000-8000-000000000002" name="开会" isCodable="true"/></Code></Codes></CodeBook>
<Sources><TextSource guid="13131313-0000-4000-8000-000000000001" name="访谈" plainTextPath="internal://a.txt">
<PlainTextSelection guid="14141414-0000-4000-8000-000000000001" startPosition="4" endPosition="9" creatingUser="11111111-0000-4000-8000-000000000001">
<Coding guid="15151515-0000-4000-8000-000000000001"><CodeRef targetGUID="12121212-0000-4000-8000-000000000001"/></Coding>
</PlainTextSelection></TextSource></Sources>
<Notes><Note guid="16161616-0000-4000-8000-000000000001" name="n"><PlainTextContent>备忘</PlainTextContent></Note></Notes>
</Project>"""


# -- mutations ------------------------------------------------------------------------------
def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.choice(("flip", "insert", "delete", "truncate", "repeat", "nasty"))
        pos = rng.randrange(len(data) + 1) if data else 0
        if op == "flip" and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == "insert":
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        elif op == "delete":
            del data[pos:pos + rng.randint(1, 32)]
        elif op == "truncate":
            del data[pos:]
        elif op == "repeat":
            chunk = bytes(data[pos:pos + rng.randint(1, 64)]) or b"x"
            data[pos:pos] = chunk * rng.randint(2, 2000)
        else:
            data[pos:pos] = rng.choice(NASTY_TEXT).encode("utf-8", "surrogatepass")
    return bytes(data)


def transcript_case(rng: random.Random, folder: Path) -> Path:
    kind = rng.choice(("text", "text", "gb18030", "utf16", "docx", "long", "binary", "empty"))
    name = f"访谈{rng.randrange(10**6)}"
    if kind == "docx":
        source = rng.choice(sorted(CORPUS.rglob("*.docx")))
        path = folder / f"{name}.docx"
        path.write_bytes(mutate_bytes(rng, source.read_bytes()) if rng.random() < 0.7 else
                         _zip({"word/document.xml": mutate_bytes(rng, b"<w:document/>")}))
        return path
    path = folder / f"{name}.{rng.choice(('txt', 'md', 'srt', 'vtt'))}"
    if kind == "gb18030":
        data = TRANSCRIPT.decode().encode("gb18030")
    elif kind == "utf16":
        data = TRANSCRIPT.decode().encode("utf-16")
    elif kind == "long":
        data = "受访者：".encode() + ("好" * rng.choice((1000, 120_000))).encode() + b"\n"
    elif kind == "binary":
        data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4096)))
    elif kind == "empty":
        data = rng.choice((b"", b"\n\n", b"\xef\xbb\xbf", b" \t "))
    else:
        data = TRANSCRIPT
    path.write_bytes(mutate_bytes(rng, data) if kind not in ("empty",) else data)
    return path


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def codebook_case(rng: random.Random, folder: Path) -> Path:
    text = CODEBOOK
    choice = rng.random()
    if choice < 0.3:
        text = text.replace("楼组长.{0,4}党员", rng.choice(REGEXES).replace("'", "''"))
    elif choice < 0.45:
        text = text.replace("  - id: governance", "  - &g\n    id: governance").replace(
            "          - any: [开会, 商量]", "          - any: [开会, 商量]\n        children: [*g]")
    elif choice < 0.55:
        text = "format: 1\nname: x\ncodes: " + "[" * rng.randint(100, 5000) + "]" * rng.randint(0, 5000) + "\n"
    elif choice < 0.65:
        text = text.replace("any: [开会, 商量]", f"any: [开会, 商量]\n            min_hits: {'9' * rng.randint(18, 6000)}")
    data = text.encode("utf-8")
    if rng.random() < 0.6:
        data = mutate_bytes(rng, data)
    path = folder / "fuzz.yaml"
    path.write_bytes(data)
    return path


def manifest_case(rng: random.Random, folder: Path) -> Path:
    rows = ["file,case,role,date,备注"]
    for i in range(rng.randint(1, 6)):
        cell = rng.choice(["H街道", '"N街道', "S街道\r", "长" * rng.choice((10, 140_000)), "=1+2", ""])
        rows.append(f"访谈{i}.txt,{cell},社区党组织书记A,2023-05-0{i % 9 + 1},{rng.choice(NASTY_TEXT)}")
    sep = rng.choice(("\n", "\r\n", "\r"))
    data = sep.join(rows).encode("utf-8", "surrogatepass")
    if rng.random() < 0.5:
        data = mutate_bytes(rng, data)
    path = folder / rng.choice(("m.csv", "m.csv", "m.xlsx"))
    if path.suffix == ".xlsx":
        data = mutate_bytes(rng, _zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"}))
    path.write_bytes(data)
    return path


def settings_case(rng: random.Random, original: bytes) -> bytes:
    return rng.choice([
        lambda: mutate_bytes(rng, original),
        lambda: original.replace(b'db = "qualcode.db"', rng.choice((b"db = 42", b'db = ""', b"db = [1]", b'db = "\x00"'))),
        lambda: original.replace(b"codebook = ", b"codebook = 7 #"),
        lambda: b"\xef\xbb\xbf" + original,
        lambda: bytes(rng.randrange(256) for _ in range(64)),
        lambda: b"project = 3\n",
        lambda: b"[project]\n" + b"a = " + b"[" * 2000 + b"]" * 2000 + b"\n",
    ])()


def qdpx_case(rng: random.Random, folder: Path) -> Path:
    qde = QDE
    if rng.random() < 0.4:
        s, e = rng.choice(((9, 4), (0, 0), (-3, 2), (10**30, 5), (2, 10**6)))
        qde = qde.replace('startPosition="4" endPosition="9"', f'startPosition="{s}" endPosition="{e}"')
    if rng.random() < 0.2:
        depth = rng.choice((40, 250))
        nested = "".join(f'<Code guid="12121212-0000-4000-8000-{i:012d}" name="c{i}">' for i in range(depth))
        qde = qde.replace("</Codes>", nested + "</Code>" * depth + "</Codes>")
    text = TRANSCRIPT
    if rng.random() < 0.4:
        text = text.replace("社区".encode(), rng.choice(("\x00", "\x07", "\x1b", "\ufffe")).encode() + "社区".encode())
    members = {"project.qde": qde.encode("utf-8"), "sources/a.txt": text}
    if rng.random() < 0.5:
        members["project.qde"] = mutate_bytes(rng, members["project.qde"])
    data = _zip(members)
    if rng.random() < 0.3:
        data = mutate_bytes(rng, data)
    path = folder / "fuzz.qdpx"
    path.write_bytes(data)
    return path


# -- running and judging ----------------------------------------------------------------------
class Hang(Exception):
    pass


@contextmanager
def budget(seconds: int):
    def alarm(_signum, _frame):
        raise Hang

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def state(root: Path) -> str:
    """A digest of everything a command could damage: every row of every table, the settings,
    the codebooks."""
    digest = hashlib.sha256()
    con = sqlite3.connect(f"file:{root / 'qualcode.db'}?mode=ro", uri=True)
    try:
        for line in con.iterdump():
            digest.update(line.encode("utf-8", "surrogatepass"))
    finally:
        con.close()
    digest.update((root / "qualcode.toml").read_bytes())
    for path in sorted((root / "codebooks").iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


class Tally:
    def __init__(self):
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []

    def run(self, label: str, root: Path, args: list[str], check_unchanged: bool = True) -> None:
        self.counts["tried"] += 1
        before = state(root)
        try:
            with budget(BUDGET_SECONDS):
                result = CliRunner().invoke(cli, ["--project", str(root), *map(str, args)])
        except Hang:
            self.counts["hangs"] += 1
            self.problems.append(f"{label}: hang (more than {BUDGET_SECONDS} s)")
            return
        output = result.output
        if result.exit_code == 0:
            self.counts["successes"] += 1
            return
        if result.exit_code not in (1, 2, 3, 4) or "internal error" in output or "Traceback" in output:
            self.counts["crashes"] += 1
            self.problems.append(f"{label}: exit {result.exit_code}: {output.strip()[-300:]!r}")
            return
        if result.exit_code == 4:  # a batch in which some files failed: the others were imported
            self.counts["partial"] += 1
            return
        self.counts["clean refusals"] += 1
        if check_unchanged and state(root) != before:
            self.counts["data lost"] += 1
            self.problems.append(f"{label}: refused (exit {result.exit_code}) but the project changed")


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A project with one interview, automatic proposals and a manual coding."""
    root = tmp_path_factory.mktemp("fuzz") / "base"
    project = Project.init(root)
    project.close()
    src = root.parent / "src" / "访谈.txt"
    src.parent.mkdir()
    src.write_bytes(TRANSCRIPT)
    runner = CliRunner()
    for args in (["import", src], ["autocode"], ["code", "add", "1:2", "governance"]):
        assert runner.invoke(cli, ["--project", str(root), *map(str, args)]).exit_code == 0
    return root


def _copy(base: Path, where: Path) -> Path:
    import gc

    gc.collect()  # the connections of earlier commands in this process: the WAL is checkpointed
    target = where / "project"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("*.db-wal", "*.db-shm"))
    return target


def test_fuzz_every_input_is_refused_cleanly_or_accepted(base, tmp_path, capsys):
    rng = random.Random(SEED)
    tally = Tally()
    work = tmp_path / "in"
    work.mkdir()
    project = _copy(base, tmp_path)
    for i in range(CASES):
        folder = work / f"t{i}"
        folder.mkdir()
        paths = [transcript_case(rng, folder) for _ in range(rng.randint(1, 3))]
        tally.run(f"transcript {i} (seed {SEED})", project, ["import", *paths], check_unchanged=len(paths) == 1)
    for i in range(CASES):
        folder = work / f"c{i}"
        folder.mkdir()
        path = codebook_case(rng, folder)
        tally.run(f"codebook {i} (seed {SEED})", project, ["codebook", "validate", path])
        tally.run(f"codebook autocode {i} (seed {SEED})", project, ["autocode", "--codebook", path])
    for i in range(CASES):
        folder = work / f"m{i}"
        folder.mkdir()
        path = manifest_case(rng, folder)
        (folder / "访谈0.txt").write_bytes(TRANSCRIPT.replace("社区".encode(), f"社区{i}".encode()))
        tally.run(f"manifest {i} (seed {SEED})", project, ["import", "--manifest", path, folder / "访谈0.txt"])
    config = project / "qualcode.toml"
    original = config.read_bytes()
    for i in range(CASES):
        config.write_bytes(settings_case(rng, original))
        tally.run(f"settings {i} (seed {SEED})", project, [rng.choice(("docs", "codebook")), "list" if rng.random() < .5
                                                                  else "--help"])
        tally.run(f"settings export {i} (seed {SEED})", project, ["export", "codings", "-o", work / f"s{i}.csv"])
    config.write_bytes(original)
    for i in range(CASES):
        folder = work / f"q{i}"
        folder.mkdir()
        empty = Project.init(folder / "empty")
        empty.close()
        tally.run(f"qdpx {i} (seed {SEED})", folder / "empty", ["import", "qdpx", qdpx_case(rng, folder)])
        archive = folder / "bomb.docx"
        archive.write_bytes(mutate_bytes(rng, _zip({"word/document.xml": b"<w:document/>", "x": b"0" * 10_000})))
        tally.run(f"archive {i} (seed {SEED})", project, ["import", archive])
    with capsys.disabled():
        counts = tally.counts
        print(f"\nfuzz (seed {SEED}, {CASES} per kind): tried {counts['tried']}, successes {counts['successes']}, "
              f"partial {counts['partial']}, clean refusals {counts['clean refusals']}, crashes {counts['crashes']}, "
              f"hangs {counts['hangs']}, data lost {counts['data lost']}")
    assert tally.problems == []
