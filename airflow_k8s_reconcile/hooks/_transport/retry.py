"""The one retry policy for requests to the API server, used by every client the hooks build.

What is retried: HTTP 429 (API Priority and Fairness rejected the request before running it, KEP-1040) honouring
``Retry-After`` (RFC 9110 §10.2.3), 500/502/503/504, and connections reset or closed before an answer. Only
idempotent methods (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, PUT, DELETE) are resent, because a reset POST may
already have created the object; code that knows a request is safe to repeat (a create that tolerates
``AlreadyExists``, a server-side apply) says so with :func:`safe_to_retry`. Attempts are bounded and spaced by
exponential backoff with jitter, as client-go's ``wait.Backoff`` does, so many tasks do not retry in lockstep.
Timeouts are not retried: a hung server would cost the timeout once per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import TypeVar

from airflow_k8s_reconcile.hooks._errors import header_of, is_api_exception, is_client_error, transport_kind

T = TypeVar("T")
log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_safe_to_retry: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "k8s_reconcile_safe_to_retry", default=False
)


@contextlib.contextmanager
def safe_to_retry() -> Iterator[None]:
    """Let requests made in the block be resent even when their method is not idempotent (POST, PATCH).

    Use it only around requests whose repetition is harmless, e.g. a create whose ``AlreadyExists`` is handled.
    It follows the context (threads started with ``contextvars.copy_context``, asyncio tasks).
    """
    token = _safe_to_retry.set(True)
    try:
        yield
    finally:
        _safe_to_retry.reset(token)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently to resend a failed request.

    :param attempts: total attempts, the first included (``1`` disables retries).
    :param initial_delay: seconds before the second attempt; doubled for each further one.
    :param max_delay: upper bound of one wait, ``Retry-After`` included.
    :param jitter: each backoff is stretched by a random factor in ``[1, 1 + jitter]``.
    """

    attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.2

    def delay(self, error: BaseException, *, method: str, attempt: int, rng: random.Random) -> float | None:
        """Return how long to wait before resending after ``error`` on attempt ``attempt`` (1-based), or ``None``.

        :param method: the HTTP method of the request.
        """
        if attempt >= self.attempts or not (method.upper() in IDEMPOTENT_METHODS or _safe_to_retry.get()):
            return None
        if is_api_exception(error):
            if int(getattr(error, "status", 0)) not in RETRY_STATUSES:
                return None
            retry_after = parse_retry_after(header_of(getattr(error, "headers", None), "Retry-After"))
            if retry_after is not None:
                return float(min(retry_after, self.max_delay))
        elif not (is_client_error(error) and transport_kind(error) == "reset"):
            return None
        backoff = min(self.max_delay, self.initial_delay * 2.0 ** (attempt - 1))
        return min(self.max_delay, backoff * (1 + self.jitter * rng.random()))


NO_RETRY = RetryPolicy(attempts=1)


def parse_retry_after(value: str, *, now: datetime | None = None) -> float | None:
    """Return the seconds a ``Retry-After`` value asks for: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _describe(error: BaseException) -> str:
    status = getattr(error, "status", None) if is_api_exception(error) else None
    return f"HTTP {status}" if status else f"connection {transport_kind(error)}"


def call_with_retries(
    send: Callable[[], T],
    *,
    policy: RetryPolicy,
    method: str,
    errors: tuple[type[BaseException], ...],
    what: str = "",
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call ``send`` until it succeeds or ``policy`` says stop; re-raise the last error.

    :param method: the HTTP method ``send`` uses (decides whether resending is safe).
    :param errors: the client library's error classes (HTTP errors and transport errors); others propagate.
    :param what: the request, for the log line, e.g. ``GET /api/v1/namespaces``.
    """
    chance = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    attempt = 1
    while True:
        try:
            return send()
        except errors as err:
            wait = policy.delay(err, method=method, attempt=attempt, rng=chance)
            if wait is None:
                raise
            log.info("Retrying %s in %.1fs after %s (attempt %d of %d)", what or method, wait,
                     _describe(err), attempt + 1, policy.attempts)  # fmt: skip
        sleep(wait)
        attempt += 1


async def acall_with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    policy: RetryPolicy,
    method: str,
    errors: tuple[type[BaseException], ...],
    what: str = "",
    rng: random.Random | None = None,
) -> T:
    """Async twin of :func:`call_with_retries`; waits with ``asyncio.sleep``."""
    chance = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    attempt = 1
    while True:
        try:
            return await send()
        except errors as err:
            wait = policy.delay(err, method=method, attempt=attempt, rng=chance)
            if wait is None:
                raise
            log.info("Retrying %s in %.1fs after %s (attempt %d of %d)", what or method, wait,
                     _describe(err), attempt + 1, policy.attempts)  # fmt: skip
        await asyncio.sleep(wait)
        attempt += 1
