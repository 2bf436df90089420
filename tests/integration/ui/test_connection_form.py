"""The connection UI in a real browser: Admin -> Connections -> add, the provider's fields, Test, save, reopen.

What a person sees, checked in headless Chromium against ``airflow api-server`` and the local control plane: the
custom fields with their labels and help, the Test button's verdict for a working identity, the warning for one
without permissions, a readable diagnosis for a broken connection (no traceback), a YAML kubeconfig pasted into the
one-line "Kubeconfig (inline)" input exactly as the browser pastes it, and the saved connection reopened with its
secret masked. On Airflow 3.3.1-3.3.2 the list's Test button sends port 0 for a connection without a port and the
API refuses it (apache/airflow#73298); the test shows that answer and the provider's workaround (port 0 stored).
"""

from __future__ import annotations

import base64
import json
from importlib.metadata import version

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

TOAST = "[data-scope=toast][data-part=root]"
AIRFLOW = tuple(int(part) for part in version("apache-airflow").split(".")[:3])
PORT_BUG = (3, 3, 1) <= AIRFLOW <= (3, 3, 2)


def _open_form(page, base: str, conn_id: str) -> None:
    page.goto(f"{base}/connections")
    page.get_by_role("button", name="Add Connection").click()
    page.locator("input[name=connection_id]").fill(conn_id)
    page.locator("input[type=text]").last.focus()  # the connection type's searchable select
    page.keyboard.type("Kubernetes (reconcile)")
    page.keyboard.press("Enter")
    page.get_by_text("Kubeconfig (inline)", exact=True).wait_for()


def _fill_and_save(page, *, path: str = "", paste: str = "", port: bool = False) -> None:
    if paste:  # a real paste from the clipboard: the browser decides what the one-line input keeps
        page.locator("input[name=password]").click()
        page.evaluate("text => navigator.clipboard.writeText(text)", paste)
        page.keyboard.press("Control+V")
    if port:
        page.locator("input[name=port]").fill("0")
    if path:
        page.get_by_role("button", name="Extra Fields", exact=True).click()
        page.locator("#element_kube_config_path").fill(path)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("dialog").wait_for(state="hidden")


def _test_from_list(page, conn_id: str, shot) -> tuple[int, dict, str]:
    """Press the list's Test button; return the HTTP status, the JSON answer and the toast's text."""
    row = page.get_by_role("row").filter(has_text=conn_id)
    with page.expect_response(lambda r: r.url.endswith("/api/v2/connections/test")) as answer:
        row.get_by_role("button", name="Test Connection").click()
    response = answer.value
    body = response.json()
    # The toast that answers this press: it shows the message (its first words) or Airflow's error.
    shown = body["message"][:40] if response.status == 200 else "Bad Request"
    toast = page.locator(TOAST).filter(has_text=shown).last
    toast.wait_for()
    text = toast.inner_text()
    page.wait_for_timeout(700)  # let the toast finish sliding in before the screenshot
    page.screenshot(path=str(shot))
    return response.status, body, text


def test_connection_form_in_a_real_browser(api_server, page, shots, k8s_identity):
    reader = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    nobody = k8s_identity(rules=[])
    kubeconfig = reader.kubeconfig_path.read_text()

    # The form: our type, its fields with labels and help that say where each check runs.
    _open_form(page, api_server, "k8s_reader")
    page.get_by_role("button", name="Extra Fields", exact=True).click()
    for label in ("Authentication", "Kubeconfig file", "Context", "Namespace", "Verify TLS"):
        assert page.get_by_text(label, exact=True).count() >= 1, label
    assert page.get_by_text("the API server's pod for the Test button").count() >= 1
    page.screenshot(path=str(shots / "01-form.png"), full_page=True)
    page.get_by_role("button", name="Extra Fields", exact=True).click()

    # A working identity, saved the way a 3.3.2 user would (no port).
    _fill_and_save(page, path=str(reader.kubeconfig_path))
    status, body, toast = _test_from_list(page, "k8s_reader", shots / "02-test-stored-without-port.png")
    if PORT_BUG:
        assert status == 400, body
        assert "host or port to test differs" in json.dumps(body)
        assert "Bad Request" in toast
        # The workaround the form offers on these versions: store port 0 (our hook ignores the port).
        row = page.get_by_role("row").filter(has_text="k8s_reader")
        row.get_by_role("button", name="Edit Connection").click()
        assert (
            page.get_by_text("apache/airflow#73298").count() >= 1
            or page.locator("input[name=port][placeholder*='73298']").count()
        )
        page.locator("input[name=port]").fill("0")
        page.get_by_role("button", name="Save").click()
        page.get_by_role("dialog").wait_for(state="hidden")
        status, body, toast = _test_from_list(page, "k8s_reader", shots / "03-test-with-port-0.png")
    assert status == 200, body
    assert body["status"] is True, body["message"]
    assert body["message"].startswith("PASS: connected to https://")
    assert reader.username in body["message"]
    assert "PASS" in toast
    assert len(body["message"]) <= 300, body["message"]

    # An identity without permissions: the warning, and the one fix.
    _open_form(page, api_server, "k8s_nobody")
    _fill_and_save(page, path=str(nobody.kubeconfig_path), port=PORT_BUG)
    status, body, toast = _test_from_list(page, "k8s_nobody", shots / "04-test-no-permissions.png")
    assert status == 200, body
    assert body["status"] is False
    assert body["message"].startswith("WARN: Identity has no permissions")
    assert "Fix:" in body["message"]
    assert "doctor --conn-id" in body["message"]
    assert len(body["message"]) <= 300, body["message"]

    # A YAML kubeconfig pasted into the one-line input, exactly as Chromium pastes it: the line breaks are gone.
    _open_form(page, api_server, "k8s_pasted_yaml")
    _fill_and_save(page, paste=kubeconfig, port=PORT_BUG)
    status, body, toast = _test_from_list(page, "k8s_pasted_yaml", shots / "05-test-pasted-yaml.png")
    assert status == 200, body
    assert body["status"] is False
    message = body["message"]
    assert message.startswith("FAIL: ")
    assert "line breaks" in message
    assert "base64 -w0" in message
    assert "Traceback" not in message
    assert reader.token not in message + toast
    assert len(message) <= 300, message

    # The same kubeconfig as base64 (base64 -w0 kubeconfig) survives the one-line input and passes.
    _open_form(page, api_server, "k8s_pasted_base64")
    _fill_and_save(page, paste=base64.b64encode(kubeconfig.encode()).decode(), port=PORT_BUG)
    status, body, toast = _test_from_list(page, "k8s_pasted_base64", shots / "06-test-pasted-base64.png")
    assert status == 200, body
    assert body["status"] is True, body["message"]
    assert reader.username in body["message"]

    # A broken one: the file is not there (where the Test runs: the API server's pod).
    _open_form(page, api_server, "k8s_broken")
    _fill_and_save(page, path="/nonexistent/kubeconfig", port=PORT_BUG)
    status, body, toast = _test_from_list(page, "k8s_broken", shots / "07-test-broken.png")
    assert status == 200, body
    assert body["status"] is False
    assert body["message"].startswith("FAIL: ")
    assert "/nonexistent/kubeconfig" in body["message"]
    assert "Traceback" not in body["message"] + toast
    assert len(body["message"]) <= 300, body["message"]

    # Reopen a saved connection: the inline kubeconfig comes back masked, never as the token.
    row = page.get_by_role("row").filter(has_text="k8s_pasted_base64")
    row.get_by_role("button", name="Edit Connection").click()
    secret = page.locator("input[name=password]")
    secret.wait_for()
    assert secret.get_attribute("type") == "password"
    assert secret.input_value() == "***"
    page.screenshot(path=str(shots / "08-reopened-masked.png"))
    assert reader.token not in page.content()
