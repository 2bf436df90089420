"""Small wording helpers shared by every finding: how values, times and durations read in causes and fixes.

Messages name concrete values, so they all need the same few tools: quote a bad value without flooding the
message (:func:`show`, :func:`clip`), embed one finding's cause in another's (:func:`clause`, :func:`cap`), and
print instants and durations the same way everywhere (:func:`iso`, :func:`span`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def show(value: Any) -> str:
    """Return ``repr(value)`` cut to 60 characters, for naming a bad value in a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def clip(value: str, limit: int = 200) -> str:
    """Return ``value`` cut to ``limit`` characters.

    :param value: the text.
    :param limit: the maximum length.
    :return: the text, ending with ``…`` when cut.
    """
    return value if len(value) <= limit else value[: limit - 1] + "…"


def cap(text: str) -> str:
    """Return ``text`` with its first letter in upper case."""
    return text[:1].upper() + text[1:]


def clause(sentence: str) -> str:
    """Turn a finding's cause sentence into a clause to embed in another sentence."""
    return sentence[:1].lower() + sentence[1:].rstrip(".")


def iso(value: datetime) -> str:
    """Return ``value`` as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.

    :param value: an aware datetime.
    :return: the text.
    """
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def span(delta: timedelta) -> str:
    """Return a duration in its largest whole unit, e.g. ``3 hours``.

    :param delta: the duration (its sign is ignored).
    :return: the text.
    """
    seconds = int(abs(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
