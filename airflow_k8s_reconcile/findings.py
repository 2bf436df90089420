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
class CheckLine:
    """One check of a run as the report shows it: its status, how long it took, and its finding's code.

    :param id: the check's id in its plan, e.g. ``dns`` or ``rules:jobs``.
    :param title: what was checked, e.g. ``DNS`` or ``RBAC``.
    :param status: the status of the check's finding (``skipped`` when a prerequisite failed).
    :param code: the finding's code.
    :param duration_seconds: wall time of the check's requests (0 when skipped or decided locally).
    """

    id: str
    title: str
    status: Status
    code: str
    duration_seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        """Return the ``checks[]`` entry of ``doctor --json``."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status.value,
            "code": self.code,
            "duration_ms": round(self.duration_seconds * 1000, 1),
        }

    def render(self) -> str:
        """Return ``  pass   12.3 ms  TLS (TLS_VERIFIED)``."""
        return f"  {self.status.value:<7} {self.duration_seconds * 1000:>8.1f} ms  {self.title} ({self.code})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """The outcome of a check run (connection test, preflight, reconcile): verdict, findings in check order, context.

    :param verdict: ``fail`` if any finding failed, ``warn`` if any warned or is unknown, else ``pass``.
    :param findings: in the order the checks ran.
    :param connection: the secret-free explanation of the connection used (``{"conn_id": ...}`` when it did not
        resolve).
    :param explanation_lines: the explanation as text lines, for :meth:`render`.
    :param summary: what a pass proved, in one clause (shown after ``PASS:``).
    :param checks: one line per check of the run (status, duration), when the run was a plan of checks.
    :param identity: ``{"username", "groups"}`` when the identity is known (preflight).
    :param permissions: one row per required permission check: ``namespace``, ``verb``, ``resource``, ``group``,
        ``allowed`` (``True``, ``False`` or ``None`` for unknown).
    :param remediation: ``{"rbac_yaml", "commands", "verify"}`` when required permissions are missing.
    """

    verdict: Verdict
    findings: tuple[Finding, ...]
    connection: dict[str, object]
    explanation_lines: tuple[str, ...] = ()
    summary: str = ""
    checks: tuple[CheckLine, ...] = ()
    identity: Mapping[str, object] | None = None
    permissions: tuple[Mapping[str, object], ...] | None = None
    remediation: Mapping[str, object] | None = None

    @classmethod
    def build(
        cls,
        findings: Sequence[Finding],
        connection: dict[str, object],
        lines: Sequence[str] = (),
        *,
        summary: str = "",
        checks: Sequence[CheckLine] = (),
        identity: Mapping[str, object] | None = None,
        permissions: Sequence[Mapping[str, object]] | None = None,
        remediation: Mapping[str, object] | None = None,
    ) -> Report:
        """Return a report whose verdict follows from ``findings``."""
        return cls(
            verdict=verdict(findings),
            findings=tuple(findings),
            connection=connection,
            explanation_lines=tuple(lines),
            summary=summary,
            checks=tuple(checks),
            identity=identity,
            permissions=None if permissions is None else tuple(permissions),
            remediation=remediation,
        )

    @property
    def headline(self) -> str:
        """Return the one-line verdict: the first failing (or warning) finding, or what passed.

        With check lines, the verdict names the check (``FAIL at RBAC: ... cannot list configmaps in namespace
        jobs``); without, the finding's title.
        """
        order = {"fail": (Status.FAIL,), "warn": (Status.WARN, Status.UNKNOWN), "pass": ()}[self.verdict]
        decisive = next((f for f in self.findings if f.status in order), None)
        if decisive is None:
            return "PASS: " + (self.summary or "all checks passed.")
        line = next((c for c in self.checks if c.code == decisive.code and c.status == decisive.status), None)
        if line is not None:
            return f"{self.verdict.upper()} at {line.title}: {decisive.cause}"
        return f"{self.verdict.upper()}: {decisive.title}: {decisive.cause}"

    def brief(self, details: str = "", *, limit: int = 300) -> str:
        """Return the verdict and the one fix that matters, at most ``limit`` characters, for a UI toast.

        Airflow's Test button shows its message in a toast that drops line breaks and vanishes after ~5 s, so the
        whole :meth:`render` (often 1,500 characters) is unreadable there. This keeps what decides: the verdict
        and the decisive finding's title, its fix, a pointer to the full report, and as much of the cause as fits.

        :param details: where the full report is, e.g. ``airflow-k8s-reconcile doctor --conn-id ID``.
        :param limit: the maximum length (the pointer and the fix are kept whole when they fit).
        """
        order = {"fail": (Status.FAIL,), "warn": (Status.WARN, Status.UNKNOWN), "pass": ()}[self.verdict]
        decisive = next((f for f in self.findings if f.status in order), None)
        if decisive is None:
            return _clip(self.headline, limit)
        head = f"{self.verdict.upper()}: {decisive.title} [{decisive.code}]: "
        fix = f" Fix: {decisive.fix}" if decisive.fix else ""
        tail = f" Details: {details}" if details else ""
        if len(head + decisive.cause + fix + tail) <= limit:
            return head + decisive.cause + fix + tail
        # Too long: keep the fix, then the cause's start (it names the concrete value), then the pointer.
        room = limit - len(head) - len(tail)
        fix = _clip(fix, max(room - min(len(decisive.cause), 120), 0))
        return _clip(head + _clip(decisive.cause, max(room - len(fix), 0)) + fix + tail, limit)

    @property
    def ok(self) -> bool:
        """Return whether the verdict is a plain pass."""
        return self.verdict == "pass"

    def to_dict(self) -> dict[str, object]:
        """Return the ``doctor --json`` shape (JSON-serialisable, so it is also the operators' XCom).

        ``checks``, ``identity``, ``permissions`` and ``remediation`` appear only when set.
        """
        out: dict[str, object] = {
            "verdict": self.verdict,
            "findings": [finding.to_dict() for finding in self.findings],
            "connection": self.connection,
        }
        if self.checks:
            out["checks"] = [line.to_dict() for line in self.checks]
        if self.identity is not None:
            out["identity"] = dict(self.identity)
        if self.permissions is not None:
            out["permissions"] = [dict(row) for row in self.permissions]
        if self.remediation is not None:
            out["remediation"] = dict(self.remediation)
        return out

    def render(self) -> str:
        """Return the one-line verdict, the explanation, then each finding that needs attention with its fix."""
        lines = [self.headline]
        # Warnings appear below as findings, with their fix.
        lines += [f"  {line}" for line in self.explanation_lines if not line.startswith("WARN ")]
        if self.checks:
            lines.append("checks:")
            lines += [line.render() for line in self.checks]
        for item in self.findings:
            marker = {Status.PASS: "ok", Status.INFO: "info", Status.SKIPPED: "skip"}.get(item.status, "!!")
            lines.append(f"[{marker:>4}] {item.code}: {item.cause}")
            if item.fix and item.status in {Status.FAIL, Status.WARN, Status.UNKNOWN}:
                lines.append(f"       fix: {item.fix}")
        if self.remediation and self.remediation.get("rbac_yaml"):
            lines.append("remediation (apply as a cluster admin):")
            lines += [f"  {line}" for line in str(self.remediation["rbac_yaml"]).splitlines()]
        return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters at a word boundary, marked with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 0)]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "…"


__all__ = ["CheckLine", "Finding", "Report", "Status", "Verdict", "verdict"]
