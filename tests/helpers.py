"""Helpers the tests share (plain functions and data; fixtures live in conftest.py)."""
from __future__ import annotations

from pathlib import Path

QA_TRANSCRIPT = (
    "访谈主题：互助站运行情况 访谈时间：2022年7月21日 访谈地点：社区办公室\n"
    "问：您好，请您介绍一下互助站是怎么成立的？\n"
    "答：我们互助站是二〇一九年成立的。站长是退休的老党员，大家推选出来的。\n"
    "问：居民有事一般找谁？\n"
    "答：有事找站长，站长解决不了就报给网格党支部。\n"
)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
