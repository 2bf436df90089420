"""Count requests the way the API server counts them: its ``apiserver_request_total`` metric.

Tests and benchmarks compare clients that do not share code (this provider, a plain client loop, ``kubectl``), so
the count must come from the server, not from each client's own bookkeeping. The metric counts every request the
server answered, labelled with verb (``LIST``, ``GET``, ``PATCH``, ``APPLY`` on newer servers, ``DELETE``,
``POST``...), resource and code; :func:`request_counts` sums it per ``(verb, resource)``. Reading ``/metrics`` needs
the ``get`` permission on that non-resource URL (the admin identity has it); the read itself is a ``GET`` on no
resource and is therefore never counted under a resource.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

_LINE = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\}\s+(?P<value>[0-9.e+]+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> Counter[tuple[str, str]]:
    """Return ``{(verb, resource): count}`` from the text exposition of ``/metrics``."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        labels = dict(_LABEL.findall(match["labels"]))
        resource = labels.get("resource", "")
        if labels.get("subresource"):
            resource += "/" + labels["subresource"]
        counts[(labels.get("verb", ""), resource)] += int(float(match["value"]))
    return counts


def request_counts(api_client: Any) -> Counter[tuple[str, str]]:
    """Return the server's request counts so far; subtract two readings to count what happened in between.

    :param api_client: an admin ``kubernetes.client.ApiClient``.
    """
    response = api_client.call_api(
        "/metrics", "GET", auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True
    )
    try:
        return parse(response.data.decode())
    finally:
        response.release_conn()


def writes(counts: Counter[tuple[str, str]], resource: str = "configmaps") -> int:
    """Return how many requests in ``counts`` could have changed ``resource`` (anything but reads and watches)."""
    return sum(
        n for (verb, res), n in counts.items() if res == resource and verb not in {"GET", "LIST", "WATCH"}
    )


def of_verbs(counts: Counter[tuple[str, str]], *verbs: str, resource: str = "configmaps") -> int:
    """Return how many requests in ``counts`` used one of ``verbs`` on ``resource``.

    The counts are the whole server's: kube-controller-manager lists ConfigMaps, creates ``kube-root-ca.crt`` in new
    namespaces and deletes the contents of deleted ones while a test runs. A test counting its own client's
    requests should therefore count verbs the controllers do not use on ConfigMaps (``GET``, ``PATCH``; ``APPLY``
    on servers from 1.22).
    """
    return sum(n for (verb, res), n in counts.items() if res == resource and verb in verbs)
