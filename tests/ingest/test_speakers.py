import pytest

from qualcode.ingest.model import INTERVIEWEE, INTERVIEWER, OTHER, Turn
from qualcode.ingest.speakers import ROLE_ALIASES, infer_roles, label_role, parse_role

ER, EE = INTERVIEWER, INTERVIEWEE


def _turns(*pairs):
    return [Turn(text, speaker, label_role(speaker)) for speaker, text in pairs]


def test_numbered_speakers_and_renamed_official():
    turns = _turns(
        ("说话人 1", "您好，我们今天主要想了解一下互助站。"),
        ("说话人 2", "好的，我们这个站是前年成立的，主要是帮老人买菜。"),
        ("说话人 1", "那志愿者从哪里来呢？"),
        ("说话人 2", "主要靠双报到的在职党员。"),
        ("王书记", "对，我补充一下。"),
        (None, "（笑）"),
    )
    notes = infer_roles(turns)
    assert [t.role for t in turns] == [ER, EE, ER, EE, EE, None]
    assert notes == [
        "王书记 → interviewee (title in the label)",
        "说话人 1 → interviewer (1 of 2 turns are questions, speaks first)",
        "说话人 2 → interviewee (answers)",
    ]


def test_questioner_who_does_not_speak_first():
    turns = _turns(
        ("说话人 4", "我们社区一共有六个网格。"),
        ("说话人 3", "每个网格有几个网格员？"),
        ("说话人 4", "一个专职的。"),
        ("说话人 3", "那党支部建在哪一级呢？"),
    )
    infer_roles(turns)
    assert [t.role for t in turns] == [EE, ER, EE, ER]


def test_surname_initials_and_role_codes():
    turns = _turns(
        ("王", "那物业呢？"),
        ("张", "物业是新来的。"),
        ("社区党组织书记A", "我们这边主要靠网格员。"),
        ("李老师", "网格员是怎么招的？"),
    )
    infer_roles(turns)
    assert [t.role for t in turns] == [EE, EE, EE, ER]


def test_surnames_without_known_interviewer():
    turns = _turns(("王", "那物业呢？"), ("张", "物业是新来的。"), ("王", "业委会呢？"))
    infer_roles(turns)
    assert [t.role for t in turns] == [ER, EE, ER]


def test_explicit_roles_are_kept():
    turns = _turns(("受访者", "那您觉得呢？"), ("采访者", "我觉得挺好。"))
    assert infer_roles(turns) == []
    assert [t.role for t in turns] == [EE, ER]


def test_only_speaker():
    turns = _turns(("说话人 1", "我们社区一共有六个网格。"))
    assert infer_roles(turns) == ["说话人 1 → interviewee (the only speaker)"]


@pytest.mark.parametrize(
    ("text", "role"),
    [("采访者", ER), ("interviewer", ER), ("访谈者", ER), ("Interviewer ", ER), ("受访者", EE), ("interviewee", EE),
     ("other", OTHER), ("其他", OTHER)],
)
def test_parse_role(text, role):
    assert parse_role(text) == role


def test_parse_role_unknown():
    with pytest.raises(ValueError, match="unknown role '书记'"):
        parse_role("书记")
    assert set(ROLE_ALIASES.values()) == {ER, EE, OTHER}


@pytest.mark.parametrize(
    ("label", "role"),
    [("采访者", ER), ("访谈者", ER), ("访问者", ER), ("问", ER), ("Q", ER), ("主持人", ER), ("受访者", EE), ("被访者", EE),
     ("答", EE), ("A", EE), ("受访者（第二位）", EE), ("受访者2", EE), ("社区党组织书记A", None), ("王书记", None),
     ("说话人 1", None), ("王", None)],
)
def test_label_role(label, role):
    assert label_role(label) == role
