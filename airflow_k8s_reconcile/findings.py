"""Findings and reports: the public vocabulary every check, diagnosis and reconcile of this provider speaks.

A :class:`Finding` is one diagnosed fact: a stable ``code`` (catalogued in ``domain/common/catalogue.py`` and
documented in ``docs/findings.md``), a :class:`Status`, a title, a ``cause`` sentence naming the concrete value, the
``fix``, and evidence that was redacted before it got here. A :class:`Report` is an ordered run of findings with a
verdict; it is what ``doctor --json``, ``test_connection`` and the operators' XCom carry. Nothing here may ever
hold a secret, so everything here is safe to log, return as XCom, and print.

Standard library only: the lowest layer, importable from anywhere (DAG files included) at no cost.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Literal

Verdict = Literal["pass", "warn", "fail"]


class Status(enum.StrEnum):
    """Outcome of one check, as shown in reports and in ``doctor --json``."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"
    INFO = "info"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One diagnosed fact about a connection or a cluster.

    :param code: stable identifier, e.g. ``CONN_KUBECONFIG_NOT_FOUND``; documented in ``docs/findings.md``.
    :param status: how bad it is.
    :param title: short headline.
    :param cause: one sentence naming the concrete value that is wrong.
    :param fix: what to do about it.
    :param evidence: redacted supporting facts (paths, context names, HTTP status); never secrets.
    """

    code: str
    status: Status
    title: str
    cause: str
    fix: str = ""
    evidence: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON shape used by ``doctor --json``."""
        out: dict[str, object] = {
            "code": self.code,
            "status": self.status.value,
            "title": self.title,
            "cause": self.cause,
            "fix": self.fix,
        }
        if self.evidence:
            out["evidence"] = dict(self.evidence)
        return out

    def render(self) -> str:
        """Return the one-paragraph human form: ``[CODE] title: cause Fix: fix``."""
        text = f"[{self.code}] {self.title}: {self.cause}"
        return f"{text} Fix: {self.fix}" if self.fix else text


def verdict(findings: Iterable[Finding]) -> Verdict:
    """Return ``fail`` if any finding failed, ``warn`` if any warned or is unknown, else ``pass``."""
    statuses = {finding.status for finding in findings}
    if Status.FAIL in statuses:
        return "fail"
    if statuses & {Status.WARN, Status.UNKNOWN}:
        return "warn"
    return "pass"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The outcome of a check run (connection test, preflight, reconcile): verdict, findings in check order, context.

    :param verdict: ``fail`` if any finding failed, ``warn`` if any warned or is unknown, else ``pass``.
    :param findings: in the order the checks ran.
    :param connection: the secret-free explanation of the connection used (``{"conn_id": ...}`` when it did not
        resolve).
    :param explanation_lines: the explanation as text lines, for :meth:`render`.
    :param summary: what a pass proved, in one clause (shown after ``PASS:``).
    """

    verdict: Verdict
    findings: tuple[Finding, ...]
    connection: dict[str, object]
    explanation_lines: tuple[str, ...] = ()
    summary: str = ""

    @classmethod
    def build(
        cls,
        findings: Sequence[Finding],
        connection: dict[str, object],
        lines: Sequence[str] = (),
        *,
        summary: str = "",
    ) -> Report:
        """Return a report whose verdict follows from ``findings``."""
        return cls(
            verdict=verdict(findings),
            findings=tuple(findings),
            connection=connection,
            explanation_lines=tuple(lines),
            summary=summary,
        )

    @property
    def headline(self) -> str:
        """Return the one-line verdict: the first failing (or warning) finding, or what passed."""
        order = {"fail": (Status.FAIL,), "warn": (Status.WARN, Status.UNKNOWN), "pass": ()}[self.verdict]
        decisive = next((f for f in self.findings if f.status in order), None)
        if decisive is not None:
            return f"{self.verdict.upper()}: {decisive.title}: {decisive.cause}"
        return "PASS: " + (self.summary or "all checks passed.")

    @property
    def ok(self) -> bool:
        """Return whether the verdict is a plain pass."""
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, object]:
        """Return the ``doctor --json`` shape."""
        return {
            "verdict": self.verdict,
            "findings": [finding.to_dict() for finding in self.findings],
            "connection": self.connection,
        }

    def render(self) -> str:
        """Return the one-line verdict, the explanation, then each finding that needs attention with its fix."""
        lines = [self.headline]
        # Warnings appear below as findings, with their fix.
        lines += [f"  {line}" for line in self.explanation_lines if not line.startswith("WARN ")]
        for item in self.findings:
            marker = {Status.PASS: "ok", Status.INFO: "info", Status.SKIPPED: "skip"}.get(item.status, "!!")
            lines.append(f"[{marker:>4}] {item.code}: {item.cause}")
            if item.fix and item.status in {Status.FAIL, Status.WARN, Status.UNKNOWN}:
                lines.append(f"       fix: {item.fix}")
        return "\n".join(lines)


__all__ = ["Finding", "Report", "Status", "Verdict", "verdict"]
