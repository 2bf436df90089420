"""Everything that differs between the Airflow 3 minors this provider supports (3.0 through 3.3), in one place.

The same wheel runs on 3.0, 3.1, 3.2 and 3.3. What is the same on all of them (``airflow.sdk.BaseOperator``,
``BaseSensorOperator``, ``PokeReturnValue``, ``AssetWatcher``, ``airflow.sdk.log.mask_secret``,
``airflow.triggers.base.BaseTrigger``, ``BaseEventTrigger``, ``TriggerEvent``; checked on 3.0.6 and 3.3.2) is
imported from Airflow directly. Each difference is decided here by the running Airflow version, never by a
``try/except ImportError`` elsewhere (``tests/unit/test_compat.py`` fails on one), so what changed in which release
is written down once (versions read in the 3.0.6, 3.1.8, 3.2.2 and 3.3.2 wheels):

==============================  ===========================================  ============================================
what                            Airflow 3.0 (Task SDK 1.0)                   newer
==============================  ===========================================  ============================================
``BaseHook``                    ``airflow.hooks.base``                       ``airflow.sdk`` since 3.1 (Task SDK 1.1)
``BaseHook.aget_connection``    absent                                       3.1; masks synchronously until 3.3.2
``AirflowException``,           ``airflow.exceptions``                       ``airflow.sdk.exceptions`` since 3.2 (3.3
``AirflowNotFoundException``,                                                warns on the old path for the last two)
``AirflowFailException``,
``TaskDeferred``
``conf``                        ``airflow.configuration``                    ``airflow.sdk`` since 3.2
``amask_secret``                absent (``mask_secret`` only)                ``airflow.sdk.log`` since 3.3
connection form                 hook's ``get_connection_form_widgets()``     provider info ``conn-fields`` since 3.2
                                (WTForms; 3.0 needs ``wtforms`` installed)   (apache/airflow#60410)
``DagBag``                      ``airflow.models.dagbag``                    ``airflow.dag_processing.dagbag`` (3.2)
==============================  ===========================================  ============================================

Features an old Airflow cannot provide at all are :class:`Feature` values: :func:`require` raises
:class:`AirflowVersionError` naming the feature and the minimum version, from an operator's or sensor's
``__init__``, so the message appears as the DAG's import error when the file is parsed, not as an ``ImportError``
deep in a worker or the triggerer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import airflow

if TYPE_CHECKING:
    from airflow.sdk import Connection


def _release(version: str) -> tuple[int, int, int]:
    """Return ``(major, minor, micro)`` of an Airflow version string (``3.0.6``, ``3.1.0rc1``, ``3.3.2.dev0``)."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if match is None:
        raise ValueError(f"not an Airflow version: {version!r}")
    major, minor, micro = match.groups()
    return int(major), int(minor), int(micro or 0)


AIRFLOW_VERSION: tuple[int, int, int] = _release(airflow.__version__)
AIRFLOW_V_3_1_PLUS = AIRFLOW_VERSION >= (3, 1, 0)
AIRFLOW_V_3_2_PLUS = AIRFLOW_VERSION >= (3, 2, 0)
AIRFLOW_V_3_3_PLUS = AIRFLOW_VERSION >= (3, 3, 0)
# Before 3.3.2, BaseHook.aget_connection masked secrets with a synchronous call to the supervisor, which raises
# DeadlockImminentError when another async call is in flight on the loop (apache-airflow-providers-common-compat's
# get_async_connection works around it the same way); 3.3.2 masks asynchronously (amask_secret, aextra_dejson).
ASYNC_SECRET_MASKING = AIRFLOW_VERSION >= (3, 3, 2)

# mypy checks the newest Airflow's API (TYPE_CHECKING); the else branches are what older minors import.
if TYPE_CHECKING or AIRFLOW_V_3_1_PLUS:
    from airflow.sdk import BaseHook
else:  # Airflow 3.0: the Task SDK has no BaseHook yet
    from airflow.hooks.base import BaseHook

if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        TaskDeferred,
    )
else:  # 3.0 and 3.1: the Task SDK's exceptions module does not define them
    from airflow.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowNotFoundException,
        TaskDeferred,
    )

__all__ = [
    "AIRFLOW_VERSION",
    "AIRFLOW_V_3_1_PLUS",
    "AIRFLOW_V_3_2_PLUS",
    "AIRFLOW_V_3_3_PLUS",
    "ASYNC_OPERATORS",
    "DECLARATIVE_CONNECTION_FIELDS",
    "DEFERRABLE_SENSORS",
    "EVENT_TRIGGERS",
    "AirflowException",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowVersionError",
    "BaseHook",
    "Feature",
    "TaskDeferred",
    "aget_connection",
    "amask_secret",
    "connection_form_widgets",
    "dagbag",
    "get_conf",
    "require",
    "ui_field_behaviour",
]


# --- features that need a minimum Airflow ------------------------------------------------------------------------
class Feature(NamedTuple):
    """Something a DAG can ask of this provider that only some Airflow versions provide."""

    name: str
    minimum: tuple[int, int, int]
    source: str  # the Airflow change that brought it, for the error message and the README table

    @property
    def available(self) -> bool:
        """Whether the running Airflow has it."""
        return self.minimum <= AIRFLOW_VERSION


def _dotted(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)


class AirflowVersionError(RuntimeError):
    """A DAG asked for a feature the running Airflow does not have; raised while the DAG file is parsed."""

    def __init__(self, feature: Feature, used_by: str) -> None:
        self.feature = feature
        self.used_by = used_by
        super().__init__(
            f"{used_by} needs Apache Airflow >= {_dotted(feature.minimum)} for {feature.name} ({feature.source}); "
            f"this is Airflow {_dotted(AIRFLOW_VERSION)}. Upgrade Airflow, or do without {feature.name}."
        )


# Deferrable sensors and event triggers exist since 3.0 (BaseEventTrigger and AssetWatcher are Airflow 3.0's
# event-driven scheduling, AIP-82), so every supported version has them; they are listed so the README table and
# the checks use one source.
DEFERRABLE_SENSORS = Feature(
    "deferrable sensors (BaseSensorOperator.defer)", (3, 0, 0), "Airflow 2.2, AIP-40"
)
EVENT_TRIGGERS = Feature(
    "event-driven scheduling (AssetWatcher with a BaseEventTrigger)", (3, 0, 0), "Airflow 3.0, AIP-82"
)
DECLARATIVE_CONNECTION_FIELDS = Feature(
    "declarative connection form fields (conn-fields)", (3, 2, 0), "Airflow 3.2, apache/airflow#60410"
)
ASYNC_OPERATORS = Feature(
    "async operators (airflow.sdk.BaseAsyncOperator)", (3, 2, 0), "Airflow 3.2, Task SDK 1.2"
)


def require(feature: Feature, *, used_by: str) -> None:
    """Raise :class:`AirflowVersionError` unless the running Airflow has ``feature``.

    Call it from ``__init__`` (DAG-parse time) with what asked for it, e.g.
    ``require(ASYNC_OPERATORS, used_by="K8sDriftSensor(mode='async')")``.
    """
    if not feature.available:
        raise AirflowVersionError(feature, used_by)


# --- connections, configuration, masking -------------------------------------------------------------------------
def get_conf() -> Any:
    """Return Airflow's configuration (``airflow.sdk.conf`` since 3.2; ``airflow.configuration.conf`` before)."""
    if AIRFLOW_V_3_2_PLUS:
        from airflow.sdk import conf

        return conf
    from airflow.configuration import conf as core_conf

    return core_conf


async def aget_connection(hook: BaseHook, conn_id: str) -> Connection:
    """Look a connection up from async code (triggers) without blocking the event loop.

    ``BaseHook.aget_connection`` exists since 3.1 but masks synchronously before 3.3.2 (see
    :data:`ASYNC_SECRET_MASKING`), so older versions run the synchronous lookup in a thread, as Airflow's own
    common-compat provider does.
    """
    if ASYNC_SECRET_MASKING:
        connection: Connection = await hook.aget_connection(conn_id)
        return connection
    from asgiref.sync import sync_to_async

    found: Connection = await sync_to_async(hook.get_connection)(conn_id)
    return found


async def amask_secret(secret: str) -> None:
    """Register a secret with Airflow's log masker from async code (``amask_secret`` since 3.3, else a thread)."""
    if ASYNC_SECRET_MASKING:
        from airflow.sdk.log import amask_secret as masker

        await masker(secret)
        return
    from airflow.sdk.log import mask_secret
    from asgiref.sync import sync_to_async

    await sync_to_async(mask_secret)(secret)


# --- the connection form on 3.0 and 3.1 --------------------------------------------------------------------------
def connection_form_widgets(conn_fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Build the WTForms fields Airflow 3.0 and 3.1 read for the connection form, from the ``conn-fields`` dict.

    Airflow 3.2+ reads ``conn-fields`` from the provider info and never calls this. 3.0 and 3.1 call the hook's
    ``get_connection_form_widgets()`` with ``wtforms.StringField``, ``IntegerField``, ``BooleanField``,
    ``validators.Optional`` and ``validators.any_of`` patched by the UI's ``HookMetaService``, which turns each field
    back into a JSON-schema param (label -> title, description, default, enum). So only those names are used, and
    imported at call time, where the patches apply. A ``number`` becomes an integer field and ``format`` is dropped:
    the only things 3.0/3.1 forms cannot express.
    """
    from wtforms import BooleanField, IntegerField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for name, field in conn_fields.items():
        schema = field["schema"]
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        validators: list[Any] = [Optional()]
        if "enum" in schema:
            validators.append(any_of([value for value in schema["enum"] if value is not None]))
        if "boolean" in types:
            field_class: Any = BooleanField
        elif "integer" in types or "number" in types:
            field_class = IntegerField
        else:
            field_class = StringField
        widgets[name] = field_class(
            field["label"],
            validators=validators,
            description=field.get("description", ""),
            default=schema.get("default"),
        )
    return widgets


def ui_field_behaviour(behaviour: Mapping[str, Any]) -> dict[str, Any]:
    """Return the provider info's ``ui-field-behaviour`` (kebab-case) as 3.0/3.1's ``get_ui_field_behaviour()``."""
    return {
        "hidden_fields": list(behaviour.get("hidden-fields", [])),
        "relabeling": dict(behaviour.get("relabeling", {})),
        "placeholders": dict(behaviour.get("placeholders", {})),
    }


# --- for tests and tools that parse DAG files ----------------------------------------------------------------------
def dagbag(dag_folder: str) -> Any:
    """Parse a DAG folder with Airflow's ``DagBag`` (``airflow.dag_processing.dagbag`` since 3.2)."""
    if TYPE_CHECKING or AIRFLOW_V_3_2_PLUS:
        from airflow.dag_processing.dagbag import DagBag
    else:  # 3.0 and 3.1 (3.3 warns on this path)
        from airflow.models.dagbag import DagBag
    return DagBag(dag_folder=dag_folder)
