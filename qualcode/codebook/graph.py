"""The graph of code references (``requires_codes``/``unless_codes``) between rules.

``find_cycles`` reports the cycles that make a codebook invalid; ``dependency_order`` gives
the order in which auto-coding must decide codes so that referenced codes come first.
"""
from __future__ import annotations

from typing import Any

from qualcode.codebook.model import Codebook


def find_cycles(graph: dict[str, list[tuple[str, str, Any]]]) -> list[tuple[list[str], str, Any]]:
    """Each elementary cycle found by DFS once, with the edge (ypath, node) that closes it."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour: dict[str, int] = {}
    stack: list[str] = []
    found: list[tuple[list[str], str, Any]] = []
    seen_cycles: set[frozenset[str]] = set()

    def visit(n: str) -> None:
        colour[n] = GREY
        stack.append(n)
        for target, ypath, node in graph.get(n, []):
            c = colour.get(target, WHITE)
            if c == GREY:
                cyc = stack[stack.index(target):] + [target]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    found.append((cyc, ypath, node))
            elif c == WHITE:
                visit(target)
        stack.pop()
        colour[n] = BLACK

    for n in sorted(graph):
        if colour.get(n, WHITE) == WHITE:
            visit(n)
    return found


def dependency_order(codebook: Codebook) -> list[str]:
    """Code paths ordered so that codes referenced by a rule come before the referring code."""
    paths = [c.path for c in codebook.codes]
    deps: dict[str, set[str]] = {p: set() for p in paths}
    for c in codebook.codes:
        for r in c.rules:
            for ref in (*r.requires_codes, *r.unless_codes):
                deps[c.path].update(p for p in paths if p == ref or p.startswith(ref + "/"))
    order: list[str] = []
    done: set[str] = set()

    def visit(p: str, trail: tuple[str, ...]) -> None:
        if p in done or p in trail:
            return
        for d in sorted(deps[p], key=paths.index):
            visit(d, trail + (p,))
        done.add(p)
        order.append(p)

    for p in paths:
        visit(p, ())
    return order
