"""Run a kubeconfig exec credential plugin (aws, gke-gcloud-auth-plugin, kubelogin, ...) once, safely.

The Kubernetes Python client swallows plugin failures (it logs them on the root logger and carries on without
credentials, so every request goes out anonymous). Here the plugin runs under our control: non-interactive, stdin
closed, with a time limit, and its outcome is interpreted by
:func:`~airflow_k8s_reconcile.domain.connection.credentials.exec_plugin.interpret_exec_output`, which names the missing binary (with the
kubeconfig's ``installHint``), the exit status and the redacted stderr. Its stdout holds the credential and is
never logged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.connection.credentials.exec_plugin import (
    exec_request_env,
    interpret_exec_output,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
        ClientCertCredential,
        ExecSpec,
        TokenCredential,
    )

EXEC_TIMEOUT_SECONDS = 60.0


def run_exec_plugin(
    spec: ExecSpec,
    *,
    server: str,
    ca_pem: bytes | None,
    tls_server_name: str | None,
    insecure: bool,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> TokenCredential | ClientCertCredential:
    """Run the plugin and return the credential it printed.

    :param timeout: seconds before the plugin is killed (default :data:`EXEC_TIMEOUT_SECONDS`).
    :raises ConnectionConfigError: the plugin is missing, failed, timed out or printed something unusable.
    """
    base_env = dict(os.environ if environ is None else environ)
    path = base_env.get("PATH")
    binary = spec.command if os.sep in spec.command else shutil.which(spec.command, path=path)
    env = {
        **base_env,
        **exec_request_env(
            spec, server=server, ca_pem=ca_pem, tls_server_name=tls_server_name, insecure=insecure
        ),
    }
    if binary is None or not os.path.exists(binary):  # noqa: PTH110 - a plain existence probe
        return interpret_exec_output(
            spec,
            returncode=None,
            stdout=b"",
            stderr=b"",
            timed_out=False,
            not_found=True,
            now=datetime.now(UTC),
        )
    returncode: int | None = None
    stdout = stderr = b""
    timed_out = False
    try:
        done = subprocess.run(
            [binary, *spec.args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout or EXEC_TIMEOUT_SECONDS,
            check=False,
        )
        returncode, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired:
        timed_out = True
    except PermissionError as err:
        returncode, stderr = 126, f"{binary}: {err.strerror}".encode()
    return interpret_exec_output(
        spec,
        returncode=returncode,
        stdout=stdout,
        stderr=stderr,
        timed_out=timed_out,
        not_found=False,
        now=datetime.now(UTC),
    )
