"""The terminal front end of ``qualcode review``: draws an item with rich and reads single
keys (cbreak mode on a tty, one line per key otherwise), which works over SSH in any
terminal. The queue, the keys' effects and the saved position are ``annotate.review``'s."""
from __future__ import annotations

import os
import sys

from qualcode.annotate.review import KEYS, Item, ReviewSession
from qualcode.errors import QualcodeError


class KeyReader:
    """Single keys from a terminal (cbreak mode only while waiting), or one line per key from a pipe."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self.buffer: list[str] = []
        try:
            self.fd = self.stream.fileno()
            self.tty = os.isatty(self.fd)
        except (AttributeError, ValueError, OSError):
            self.fd, self.tty = None, False

    def __enter__(self):
        """Single-key (cbreak) mode for the whole review; typed-ahead keys are kept, not echoed."""
        if self.tty:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *exc):
        if self.tty:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def key(self) -> str:
        if self.buffer:
            return self.buffer.pop(0)
        if not self.tty:
            line = self.stream.readline()
            if not line:
                raise EOFError
            return line.strip()[:1] or "\n"
        data = os.read(self.fd, 64)
        if not data:
            raise EOFError
        text = data.decode("utf-8", "ignore")
        if text.startswith("\x1b"):  # arrow and function keys: ignored
            return ""
        if text[:1] == "\x04":
            raise EOFError
        self.buffer.extend(text[1:])
        return text[:1]

    def line(self, prompt: str) -> str:
        """One line of text (a memo, a code), typed with the terminal's own line editing."""
        sys.stdout.write(prompt)
        sys.stdout.flush()
        head = "".join(self.buffer)
        self.buffer.clear()
        if "\n" in head or "\r" in head:
            first, _, rest = head.replace("\r", "\n").partition("\n")
            self.buffer.extend(rest)
            return first.strip()
        if self.tty:
            import termios

            cbreak = termios.tcgetattr(self.fd)
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            try:
                line = os.read(self.fd, 4096).decode("utf-8", "ignore")  # canonical mode: one line
            finally:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, cbreak)
        else:
            line = self.stream.readline()
        if not line and not head:
            raise EOFError
        return (head + line).strip()


def render_item(console, item: Item, session: ReviewSession) -> None:
    from rich.text import Text

    c, p = item.coding, item.passage
    plain = console.no_color or console.color_system is None
    console.rule(f"[{item.position}/{item.total}]  {p['passage']}  {p['document']}")
    for turn in item.before:
        console.print(Text(f"  {turn['passage']} {turn['speaker'] or '-'}: {turn['text']}", style="dim"))
    who = f"{p['speaker'] or '-'} ({p['role'] or 'role unknown'})"
    text = Text(f"▶ {p['passage']} {who}: ")
    body = Text(p["text"])
    base = p["start"]
    if c["unit"] != "passage" and (c["start"], c["end"]) != (p["start"], p["end"]):
        body.stylize("underline", c["start"] - base, c["end"] - base)
    marks = sorted({(s - base, e - base) for _, s, e in item.evidence if base <= s < e <= base + len(p["text"])})
    for s, e in marks:
        body.stylize("bold black on yellow", s, e)
    if plain and marks:  # no colours: bracket the evidence instead
        raw, out, pos = p["text"], [], 0
        for s, e in marks:
            if s < pos:
                continue
            out += [raw[pos:s], "【", raw[s:e], "】"]
            pos = e
        body = Text("".join(out) + raw[pos:])
    text.append_text(body)
    console.print(text)
    for turn in item.after:
        console.print(Text(f"  {turn['passage']} {turn['speaker'] or '-'}: {turn['text']}", style="dim"))
    console.print()
    score = f"score {c['score']} (p≈{item.probability:.2f})" if c["score"] not in (None, "") else "no score"
    absent = "  — ABSENT (negative evidence) 缺失" if c.get("absent") else ""
    console.print(Text(f"proposal {c['id']}: {c['code']}  {item.code_label}{absent}", style="bold"))
    console.print(Text(f"  {c['origin']}{' ' + c['rule'] if c['rule'] else ''} · {score}"))
    if item.evidence:
        shown = []
        for term, s, e in item.evidence:
            found = p["text"][s - base:e - base] if base <= s < e <= base + len(p["text"]) else term
            shown.append(found if found == term else f"{found} ({term})")
        console.print(Text("  evidence: " + ", ".join(dict.fromkeys(shown))))
    if item.definition:
        for line in item.definition.splitlines()[:4]:
            console.print(Text(f"  {line}", style="italic"))
    console.print(Text("[a]ccept [r]eject a[b]sent [c]hange code [n] add code [m]emo [s]kip [u]ndo [q]uit [?]", style="cyan"))


def interactive(loop, session, console=None, reader: KeyReader | None = None) -> str:
    """Run ``loop(session, console, keys)`` with single-key input; returns its closing message
    (shared by ``review`` and ``adjudicate``)."""
    from rich.console import Console

    console = console or Console(highlight=False)
    with reader or KeyReader() as keys:
        return loop(session, console, keys)


def run_review(session: ReviewSession, console=None, reader: KeyReader | None = None) -> str:
    """The interactive review loop; returns the closing message."""
    return interactive(_loop, session, console, reader)


def _loop(session: ReviewSession, console, reader: KeyReader) -> str:
    message = ""
    shown = None
    while True:
        item = session.current()
        if item is None:
            left = session.remaining_skipped()
            end = "No proposals left to review."
            if left:
                end += f" {left} skipped (run with --reset to see them again)."
            return end
        if shown != (item.coding["id"], item.total):
            render_item(console, item, session)
            shown = (item.coding["id"], item.total)
        if message:
            console.print(message)
            message = ""
        console.file.write("> ")
        console.file.flush()
        try:
            key = reader.key()
        except (EOFError, KeyboardInterrupt):
            key = "q"
        console.print(key if key.strip() else "")
        try:
            if key == "a":
                message = session.accept()
            elif key == "r":
                message = session.reject()
            elif key == "b":
                message = session.mark_absent()
            elif key in ("c", "n"):
                what = "code instead" if key == "c" else "another code"
                ref = reader.line(f"{what} (path, id or label; empty cancels): ")
                if ref:
                    message = session.change_code(ref) if key == "c" else session.add_code(ref)
                    shown = None
            elif key == "m":
                text = reader.line("memo (one line; empty cancels): ")
                if text:
                    message = session.memo(text)
            elif key == "s":
                message = session.skip()
            elif key == "u":
                message = session.undo()
                shown = None
            elif key == "q":
                n = len(session.pending())
                return f"Saved. {n} proposals left; run the same command to resume."
            elif key == "?":
                message = "  ".join(f"{k} {v}" for k, v in KEYS.items())
            elif key:
                message = f"unknown key {key!r}; press ? for help"
        except (EOFError, KeyboardInterrupt):
            return f"Saved. {len(session.pending())} proposals left; run the same command to resume."
        except QualcodeError as exc:
            message = f"Error: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
