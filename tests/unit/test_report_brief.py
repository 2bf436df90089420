"""The Test button's message: the verdict and the one fix that matters, short enough for Airflow's toast."""

from __future__ import annotations

from airflow_k8s_reconcile.findings import Finding, Report, Status

DETAILS = "airflow-k8s-reconcile doctor --conn-id <conn_id>"


def _finding(code: str, status: Status, cause: str, fix: str = "") -> Finding:
    return Finding(code=code, status=status, title=code.title(), cause=cause, fix=fix)


def test_a_failure_keeps_verdict_title_fix_and_pointer_within_300() -> None:
    report = Report.build(
        [
            _finding("OK_ONE", Status.PASS, "fine " * 30),
            _finding("BAD_ONE", Status.FAIL, "the cause is long " * 40, "Do the one thing. " * 5),
            _finding("BAD_TWO", Status.FAIL, "a later failure", "never shown"),
        ],
        {},
    )
    message = report.brief(DETAILS)
    assert len(message) <= 300
    assert message.startswith("FAIL: Bad_One [BAD_ONE]: the cause is long")
    assert "Fix: Do the one thing." in message
    assert message.endswith(f"Details: {DETAILS}")
    assert "never shown" not in message
    assert "\n" not in message
    assert len(report.render()) > 600  # doctor keeps everything


def test_a_short_warning_is_whole() -> None:
    report = Report.build([_finding("NO_PERMS", Status.WARN, "x has none.", "Bind a Role.")], {})
    assert (
        report.brief(DETAILS)
        == f"WARN: No_Perms [NO_PERMS]: x has none. Fix: Bind a Role. Details: {DETAILS}"
    )


def test_a_pass_is_its_summary() -> None:
    report = Report.build([_finding("OK", Status.PASS, "ok")], {}, summary="connected to https://x as y.")
    assert report.brief(DETAILS) == "PASS: connected to https://x as y."
    assert len(Report.build([], {}, summary="z" * 400).brief(DETAILS)) <= 300
