"""A real ``airflow api-server`` on loopback and headless Chromium driving its connection form.

The server gets a temporary AIRFLOW_HOME with SQLite, ``test_connection`` enabled and the simple auth manager with
everyone an admin, so no login page stands between the test and the form. The browser is Debian's ``chromium``
(``make test`` installs it); Playwright never downloads one. Without either, the tests skip locally and fail in CI,
where a skip would hide a missing install step.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing; `make test` installs it")
    pytest.skip(f"{what} is missing (`make test` installs it)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_server(tmp_path_factory) -> str:
    """Start ``airflow api-server`` (after ``airflow db migrate``); yield its base URL; stop it by its PID."""
    home = tmp_path_factory.mktemp("airflow-home")
    airflow = Path(sys.executable).with_name("airflow")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[3]), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES", None)
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    port = _free_port()
    log = (home / "api-server.log").open("wb")
    server = subprocess.Popen(
        [str(airflow), "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # two shared cores: the first start imports a lot
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"api-server exited {server.returncode}: {(home / 'api-server.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"api-server not healthy in 180 s: {(home / 'api-server.log').read_text()[-3000:]}"
                )
            time.sleep(1)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (no browser download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright (the test extra)")
    if not CHROMIUM.exists():
        _missing(str(CHROMIUM))
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser, request):
    """A fresh page at 1366x657 (the issue's laptop screen) that may use the clipboard, as a user pasting does."""
    context = browser.new_context(
        viewport={"width": 1366, "height": 657}, permissions=["clipboard-read", "clipboard-write"]
    )
    # Generous: on 2 shared cores the api-server answers a Test in seconds, and a busy machine doubles that.
    context.set_default_timeout(90_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def shots(request) -> Path:
    """Screenshots go to test-output/ui/<test name>/ (gitignored), kept after the run for people and CI."""
    root = Path(os.environ.get("TEST_OUTPUT_DIR", Path(__file__).parents[3] / "test-output"))
    out = root / "ui" / request.node.name
    out.mkdir(parents=True, exist_ok=True)
    return out
