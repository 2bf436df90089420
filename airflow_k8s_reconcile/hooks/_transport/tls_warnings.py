"""Silence urllib3's ``InsecureRequestWarning`` for the API servers our own clients reach unverified, and only those.

With TLS verification off, urllib3 warns on every request, so ``doctor`` and task logs fill with raw warning lines
that repeat what the finding ``CONN_TLS_VERIFY_DISABLED`` already says with the cause and the fix. A process-wide
``urllib3.disable_warnings()`` would also hide the warning for other code in the worker; the filter here matches
the warning's message for one host, so only requests to a server this provider was told not to verify are quiet.
"""

from __future__ import annotations

import re
import warnings
from urllib.parse import urlsplit


def quiet_unverified_requests(server: str) -> None:
    """Ignore ``InsecureRequestWarning`` for requests to ``server``'s host (urllib3 names the host, not the port).

    :param server: the API server URL a client is being built for with verification off.
    """
    host = urlsplit(server).hostname
    if host:
        _add_filter(host)


def _add_filter(host: str) -> None:
    # filterwarnings() moves an identical filter to the front instead of adding a second one.
    from urllib3.exceptions import InsecureRequestWarning

    warnings.filterwarnings(
        "ignore",
        message=rf"Unverified HTTPS request is being made to host '\[?{re.escape(host)}\]?'",
        category=InsecureRequestWarning,
    )
