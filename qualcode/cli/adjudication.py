"""The terminal front end of ``qualcode adjudicate``: draws a disagreement (the unit, each
coder's vote and the codings and evidence behind it) and reads single keys, as ``qualcode
review`` does. The items, the consensus and the record are ``annotate.adjudicate``'s."""
from __future__ import annotations

from qualcode.annotate.adjudicate import AdjudicationSession, Item
from qualcode.cli.review import KeyReader, interactive
from qualcode.errors import QualcodeError

KEYS = {"y": "coded in the consensus", "n": "not coded", "1-9": "as coder 1-9 had it", "s": "skip",
        "u": "undo", "q": "quit", "?": "help"}


def render_item(console, item: Item, session: AdjudicationSession) -> None:
    from rich.text import Text

    console.rule(f"[{item.position}/{item.total}]  {item.unit}  {item.document}")
    console.print(Text(f"▶ {item.unit} ({item.role or 'document'}): {item.text}"))
    console.print()
    console.print(Text(f"{item.code}  {item.code_label}", style="bold"))
    if item.definition:
        for line in item.definition.splitlines()[:3]:
            console.print(Text(f"  {line}", style="italic"))
    for n, view in enumerate(item.coders, start=1):
        vote = {1: "coded", 0: "not coded", None: "did not see this document"}[view.vote]
        console.print(Text(f"  [{n}] {view.coder}: {vote}", style="bold" if view.vote else ""))
        for c in view.codings:
            how = c.get("origin", "")
            if how in ("rule", "model"):
                how = f"accepted {how} proposal {c.get('rule', '')}".rstrip() + (
                    f" (score {c['score']})" if c.get("score") else "")
            quoted = c.get("text", "")
            console.print(Text(f"      coding {c['id']} [{c['start']}, {c['end']}) {how}: {quoted}"))
            if c.get("evidence"):
                console.print(Text("      evidence: " + ", ".join(dict.fromkeys(c["evidence"]))))
            for memo in c.get("memos", []):
                console.print(Text(f"      memo {memo}", style="italic"))
    console.print(Text("[y] coded [n] not coded [1-9] as that coder [s]kip [u]ndo [q]uit [?]", style="cyan"))


def run_adjudication(session: AdjudicationSession, console=None, reader: KeyReader | None = None) -> str:
    """The interactive adjudication loop; returns the closing message."""
    return interactive(_loop, session, console, reader)


def _loop(session: AdjudicationSession, console, reader: KeyReader) -> str:
    message = ""
    while True:
        item = session.current()
        if item is None:
            return "No disagreements left. " + session.summary().line()
        render_item(console, item, session)
        if message:
            console.print(message)
        try:
            key = reader.key().lower()
        except EOFError:
            return "Stopped. " + session.summary().line()
        try:
            if key == "q":
                return "Stopped. " + session.summary().line()
            if key in ("y", "n") or (key.isdigit() and 1 <= int(key) <= len(session.coders)):
                reason = reader.line("reason: ")
                if key == "y" or key == "n":
                    message = session.settle(key == "y", reason)
                else:
                    message = session.take(session.coders[int(key) - 1], reason)
            elif key == "s":
                message = session.skip()
            elif key == "u":
                message = session.undo()
            elif key == "?":
                message = "  ".join(f"{k} {v}" for k, v in KEYS.items())
            elif key:
                message = f"unknown key {key!r} (? for help)"
        except EOFError:
            return "Stopped. " + session.summary().line()
        except QualcodeError as exc:
            message = f"! {exc.message}"
