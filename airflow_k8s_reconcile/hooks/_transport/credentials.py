"""Keep a hook's credential fresh: renew exec-plugin, auth-provider and token-file credentials before they expire.

A hook fetches its credential once and shares it between every request and every client it builds, so an exec
plugin runs once per token lifetime, not once per request or per ``get_conn``. Renewal happens on the first
request after the renewal time; a watch already open keeps its connection (the API server authenticates a request
when it starts), and the re-opened watch carries the new token.

When to renew: at the credential's expiry (the exec ``ExecCredential.status.expirationTimestamp``, else the JWT
``exp``) minus a safety margin of 20 % of the lifetime (the kubelet rotates projected tokens at 80 % of their TTL,
KEP-1205), at most :data:`MAX_EARLY_RENEWAL_SECONDS` (golang.org/x/oauth2 renews 10 s early; a minute covers clock
skew and a slow plugin). Token files are re-read every :data:`TOKEN_FILE_REFRESH_SECONDS`, as client-go's
``cachingTokenSource`` does for ``tokenFile`` and in-cluster tokens. After a 401 the credential is renewed once,
like client-go's exec authenticator does on ``http.StatusUnauthorized``, and the caller may resend the request.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    Credential,
    ExecCredential,
    TokenCredential,
    decode_jwt_claims,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource

# client-go re-reads token files every minute (transport/token_source.go, NewCachedFileTokenSource).
TOKEN_FILE_REFRESH_SECONDS = 60.0
EARLY_RENEWAL_FRACTION = 0.2
MAX_EARLY_RENEWAL_SECONDS = 60.0

Renew = Callable[[], Credential]


def expires_at(credential: Credential) -> float | None:
    """Return when ``credential`` stops working (epoch seconds): the plugin's expiry, else the JWT ``exp``."""
    stated = getattr(credential, "expires_at", None)
    if stated is not None:
        return float(stated.timestamp())
    if isinstance(credential, TokenCredential):
        exp = (decode_jwt_claims(credential.token) or {}).get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            return float(exp)
    return None


def reread_token_file(credential: TokenCredential) -> Credential:
    """Return the token now in ``credential.token_file``; keep the old one while the file is unreadable or empty.

    WARNING: blocking file I/O; the async client calls it through a thread.
    """
    if credential.token_file is None:
        return credential
    try:
        token = Path(credential.token_file).read_text().strip()
    except OSError:
        return credential
    return dataclasses.replace(credential, token=token) if token else credential


class CredentialCache:
    """The current credential of one hook, renewed when due; safe to share between threads.

    :param credential: the credential obtained now.
    :param renew: obtains a fresh credential (runs the exec plugin, re-reads the kubeconfig or token file);
        ``None`` when there is nothing to renew from (a static token or certificate).
    :param refresh_every: renew at least this often (seconds), for token files that rotate without notice.
    :param clock: wall-clock seconds; expiry timestamps are wall-clock times.
    """

    def __init__(
        self,
        credential: Credential,
        renew: Renew | None = None,
        *,
        refresh_every: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._renew = renew
        self._refresh_every = refresh_every
        self._clock = clock
        self._lock = threading.Lock()
        self.renewals = 0
        self.rejections = 0
        self._credential = credential
        self._renew_at = self._schedule(credential)

    def __repr__(self) -> str:
        kind = type(self._credential).__name__
        return f"CredentialCache(kind={kind}, renewals={self.renewals}, rejections={self.rejections})"

    @property
    def credential(self) -> Credential:
        """Return the credential held now, without renewing it (never blocks)."""
        return self._credential

    def due(self) -> bool:
        """Return whether the next request should renew the credential first."""
        return self._renew is not None and self._renew_at is not None and self._clock() >= self._renew_at

    def current(self) -> Credential:
        """Return a credential that is not due for renewal, renewing it first if needed.

        WARNING: renewing blocks (plugin run, file read); async callers check :meth:`due` and use a thread.

        :raises ConnectionConfigError: the renewal failed (e.g. the plugin failed); the finding says why.
        """
        if self.due():
            with self._lock:
                if self.due():
                    self._replace()
        return self._credential

    def renew_rejected(self, rejected: Credential) -> bool:
        """Renew after the API server answered 401 to ``rejected``; return whether a different credential is held.

        Another thread may have renewed meanwhile; then that credential is used and the plugin is not run again.
        """
        if self._renew is None:
            return False
        with self._lock:
            self.rejections += 1
            if self._credential is rejected:
                self._replace()
        return self._credential != rejected

    def _replace(self) -> None:
        assert self._renew is not None  # noqa: S101 - callers check
        self._credential = self._renew()
        self._renew_at = self._schedule(self._credential)
        self.renewals += 1

    def _schedule(self, credential: Credential) -> float | None:
        now = self._clock()
        candidates = []
        if self._refresh_every is not None:
            candidates.append(now + self._refresh_every)
        expiry = expires_at(credential)
        if expiry is not None:
            early = min(MAX_EARLY_RENEWAL_SECONDS, EARLY_RENEWAL_FRACTION * max(expiry - now, 0.0))
            candidates.append(expiry - early)
        return min(candidates) if candidates else None


def cache_for(
    resolved: ClusterSource, obtained: Credential, refetch: Callable[[], Credential]
) -> CredentialCache:
    """Return the cache for a hook's credential and how to renew it.

    :param resolved: the resolved source (its credential may still be an exec plugin or auth-provider).
    :param obtained: the credential that ``resolved`` yielded now (the plugin's token, the file's token).
    :param refetch: obtains it again (runs the plugin; re-reads the kubeconfig for an auth-provider, which kubectl
        or a sidecar may have refreshed).
    """
    if isinstance(resolved.credential, ExecCredential | AuthProviderCredential):
        return CredentialCache(obtained, refetch)
    if isinstance(obtained, TokenCredential) and obtained.token_file:
        return CredentialCache(
            obtained, functools.partial(reread_token_file, obtained), refresh_every=TOKEN_FILE_REFRESH_SECONDS
        )
    return CredentialCache(obtained)
