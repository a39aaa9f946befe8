"""Speaker labels to roles: explicit labels, user input, and inference from the dialogue."""
from __future__ import annotations

import re
from functools import lru_cache

from qualcode.ingest.model import INTERVIEWEE, INTERVIEWER, OTHER, ROLES, Turn
from qualcode.text.script import fold

# Labels that say the role outright (after a trailing number, letter or "（…）" is dropped).
LABEL_ROLES = {
    **dict.fromkeys(
        ("采访者", "访谈者", "访问者", "采访人", "访谈人", "访问人", "访谈员", "访员", "调研员",
         "主持人", "问", "Q", "INTERVIEWER"),
        INTERVIEWER,
    ),
    **dict.fromkeys(
        ("受访者", "被访者", "受访人", "被访人", "答", "A", "INTERVIEWEE", "RESPONDENT"),
        INTERVIEWEE,
    ),
}

ROLE_ALIASES = {
    **dict.fromkeys(("interviewer", "采访者", "访谈者", "访问者", "访谈人", "采访人", "问"), INTERVIEWER),
    **dict.fromkeys(("interviewee", "respondent", "受访者", "被访者", "受访人", "被访人", "答"), INTERVIEWEE),
    **dict.fromkeys(("other", "其他", "其它"), OTHER),
}

# Words in a role code or name that say which side of the interview a speaker is on.
INTERVIEWEE_HINTS = (
    "书记", "主任", "站长", "网格员", "居民", "委员", "经理", "志愿者", "社工", "干部", "党员",
    "楼长", "组长", "会长", "村民", "业主", "负责人", "主席", "科长", "局长", "镇长", "所长",
    "院长", "队长", "专干", "物业", "代表", "村长", "社长", "成员",
)
INTERVIEWER_HINTS = ("老师", "研究者", "研究员", "调研", "访员", "记者", "教授", "博士", "研究生")

_TRAILING_CODE = re.compile(r"(?:\s*[（(][^）)]*[）)]|\s*\d+|(?<=[\u4e00-\u9fff])[A-Za-z])$")
_QUESTION_END = re.compile(r"(?:[？?]|[吗呢么吧][。]?)[”\"」』）)]*$")
_GENERIC = re.compile(r"^(?:说话人|发言人|speaker)\s*\d+$", re.IGNORECASE)


@lru_cache(maxsize=4096)  # called for every candidate label on every line; labels repeat
def label_role(label: str | None) -> str | None:
    """The role a speaker label states (采访者, 问, Q, 受访者（第二位）...), else None."""
    if not label:
        return None
    base = label.strip()
    for _ in range(2):
        stripped = _TRAILING_CODE.sub("", base).strip()
        if stripped:
            base = stripped
    base = fold(base)  # 問, 訪談人, 受訪者 are the same labels in traditional script
    return LABEL_ROLES.get(base.upper()) or LABEL_ROLES.get(base)


def parse_role(s: str) -> str:
    """A user-given role ('采访者', 'interviewee', '其他' ...) as a role constant."""
    key = s.strip().lower()
    if key in ROLES:
        return key
    if key in ROLE_ALIASES:
        return ROLE_ALIASES[key]
    raise ValueError(f"unknown role {s!r}; expected one of: {', '.join(sorted(ROLE_ALIASES))}")


def is_question(text: str) -> bool:
    return bool(_QUESTION_END.search(text.strip()))


def _hinted_role(speaker: str) -> str | None:
    if any(word in speaker for word in INTERVIEWER_HINTS):
        return INTERVIEWER
    if any(word in speaker for word in INTERVIEWEE_HINTS):
        return INTERVIEWEE
    return None


def infer_roles(turns: list[Turn]) -> list[str]:
    """Fill ``role`` for labelled turns whose label does not state it; returns notes.

    Titles in the label decide first (书记, 主任 → interviewee; 老师, 调研 → interviewer).
    Among the remaining speakers (说话人 1, 王, 张 ...), if no interviewer is known yet,
    the one who asks most (speaking first breaks ties) is the interviewer; others are
    interviewees unless most of their several turns are questions.
    """
    groups: dict[str, list[Turn]] = {}
    for turn in turns:
        if turn.speaker is not None:
            groups.setdefault(turn.speaker, []).append(turn)
    roles = {s: r for s, ts in groups.items() if (r := next((t.role for t in ts if t.role), None))}
    notes: list[str] = []
    unknown = []
    for speaker in groups:
        if speaker in roles:
            continue
        hinted = _hinted_role(speaker)
        if hinted:
            roles[speaker] = hinted
            notes.append(f"{speaker} → {hinted} (title in the label)")
        else:
            unknown.append(speaker)

    if unknown:
        asked = {s: sum(is_question(t.text) for t in groups[s]) for s in unknown}
        count = {s: len(groups[s]) for s in unknown}
        avg_len = {s: sum(len(t.text) for t in groups[s]) / count[s] for s in unknown}
        first = next(iter(groups))
        if INTERVIEWER not in roles.values() and len(groups) > 1:
            best = max(unknown, key=lambda s: (asked[s] / count[s], s == first, -avg_len[s]))
            if asked[best] or best == first:
                roles[best] = INTERVIEWER
                why = f"{asked[best]} of {count[best]} turns are questions"
                notes.append(f"{best} → {INTERVIEWER} ({why}{', speaks first' if best == first else ''})")
        for speaker in unknown:
            if speaker in roles:
                continue
            if count[speaker] >= 2 and asked[speaker] / count[speaker] >= 0.5:
                roles[speaker] = INTERVIEWER
                why = f"{asked[speaker]} of {count[speaker]} turns are questions"
            else:
                roles[speaker] = INTERVIEWEE
                why = "answers" if len(groups) > 1 else "the only speaker"
            notes.append(f"{speaker} → {roles[speaker]} ({why})")

    for turn in turns:
        if turn.role is None and turn.speaker is not None:
            turn.role = roles[turn.speaker]
    return notes
