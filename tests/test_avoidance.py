"""The one home of the eligibility and 回避 rules: each rule, and the wording of every reason."""

import datetime as dt

import pytest

from inspect_kit.avoidance import (
    WORDING,
    AvoidanceRules,
    Reason,
    cert_valid,
    chinese,
    english,
    officer_reason,
    task_reasons,
)

D = dt.date
WINDOW = (D(2026, 1, 1), D(2026, 3, 31))


def test_every_reason_is_worded_in_both_languages():
    assert set(WORDING) == set(Reason)
    for r in Reason:
        assert english(r) and chinese(
            r, name="王", cert="C1", on=D(2026, 1, 5), span="…", reason="亲属", township="城关镇", period="2025Q4"
        ).startswith("王（C1）")


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({}, None),
        ({"held": {"other"}}, Reason.NOT_QUALIFIED),
        ({"status": "on_leave"}, Reason.NOT_ACTIVE),
        ({"status": "retired", "check_status": False}, None),
        ({"valid_to": D(2026, 3, 30)}, Reason.CERT_INVALID),  # must cover the whole window
        ({"valid_from": D(2026, 1, 2)}, Reason.CERT_INVALID),
        ({"valid_from": None, "valid_to": None}, None),  # a missing bound does not restrict
        ({"held": {"other"}, "status": "retired"}, Reason.NOT_QUALIFIED),  # the first rule that fails
    ],
)
def test_officer_rules(kw, expected):
    args = {
        "held": {"环境执法"},
        "needed": {"环境执法", "STHJ-01"},
        "status": "active",
        "valid_from": D(2025, 1, 1),
        "valid_to": D(2027, 1, 1),
        "window": WINDOW,
        **kw,
    }
    assert officer_reason(**args) == expected
    if expected is Reason.CERT_INVALID:
        assert not cert_valid(args["valid_from"], args["valid_to"], WINDOW)


def test_task_rules():
    off = AvoidanceRules()
    on = AvoidanceRules(same_township=True, previous_periods=2)
    assert task_reasons(off, declared=False, home_township="城关镇", township="城关镇", previous_periods_on=(1,)) == []
    assert task_reasons(off, declared=True, home_township=None, township=None) == [Reason.DECLARED]
    assert task_reasons(on, declared=False, home_township="城关镇", township="城关镇") == [Reason.TOWNSHIP]
    assert task_reasons(on, declared=False, home_township=None, township="城关镇") == []  # unknown: no rule
    assert task_reasons(on, declared=False, home_township="A", township="B", previous_periods_on=(2,)) == [
        Reason.PREVIOUS
    ]
    assert task_reasons(on, declared=False, home_township="A", township="B", previous_periods_on=(3,)) == []


def test_rules_read_from_the_config_model_or_a_stored_dict():
    from inspect_kit.config.models import ConflictRules

    assert AvoidanceRules.of(ConflictRules(same_township=True, previous_periods=1)) == AvoidanceRules(True, 1, False)
    assert AvoidanceRules.of({"previous_periods": 2, "repeat_pair": True}) == AvoidanceRules(False, 2, True)
    assert AvoidanceRules.of(None) == AvoidanceRules()
