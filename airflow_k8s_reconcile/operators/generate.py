"""``K8sGenerateConfigMapsOperator``: render ConfigMaps from custom resources and reconcile them.

The inputs are listed (group/version/plural, one namespace or all, a label selector), a user function renders each
into specs, and each generated ConfigMap gets a controller ``ownerReference`` to its input (as controller-runtime's
``SetControllerReference``), so Kubernetes' garbage collector deletes it with the input. Every input's uid,
resourceVersion and generation is recorded in the report. All reconcile options are those of
:class:`~airflow_k8s_reconcile.operators.reconcile.K8sReconcileConfigMapsOperator`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator
from airflow_k8s_reconcile.permissions import Permission

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.findings import Finding
    from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook

Render = Callable[[Mapping[str, Any]], "Iterable[Mapping[str, Any] | ConfigMapSpec]"]


class K8sGenerateConfigMapsOperator(K8sReconcileConfigMapsOperator):
    """List custom resources, render ConfigMaps from each with ``render``, and reconcile them.

    :param group: the inputs' API group, e.g. ``example.com`` (templated).
    :param version: their version, e.g. ``v1`` (templated).
    :param plural: their plural, e.g. ``widgets`` (templated).
    :param render: ``render(obj) -> [spec, ...]``: ``obj`` is the custom resource as a plain dict; each spec is a
        dict like the ``configmaps`` items (its namespace defaults to the input's) or a ``ConfigMapSpec``.
    :param input_namespace: list inputs in this namespace only; ``None`` lists every namespace (templated).
    :param label_selector: select inputs by label (templated).
    :param set_owner_reference: make each input the controller owner of what it generated (default true).
    :param kwargs: every argument of ``K8sReconcileConfigMapsOperator`` except ``configmaps`` and ``files``.
    """

    template_fields: Sequence[str] = (
        *K8sReconcileConfigMapsOperator.template_fields,
        "group",
        "version",
        "plural",
        "input_namespace",
        "label_selector",
    )

    def __init__(
        self,
        *,
        group: str,
        version: str,
        plural: str,
        render: Render,
        input_namespace: str | None = None,
        label_selector: str = "",
        set_owner_reference: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.group = group
        self.version = version
        self.plural = plural
        self.render = render
        self.input_namespace = input_namespace
        self.label_selector = label_selector
        self.set_owner_reference = set_owner_reference

    @property
    def required_permissions(self) -> tuple[Permission, ...]:
        """Return the reconcile's permissions plus ``get,list`` on the inputs (and ``delete`` for owner references).

        ``blockOwnerDeletion`` on an owner reference needs ``delete`` on the owner, else the API server rejects the
        write (Kubernetes docs, "Owners and Dependents").
        """
        verbs = ("get", "list", "delete") if self.set_owner_reference else ("get", "list")
        inputs = Permission(
            verbs=verbs, group=self.group, resource=self.plural, namespace=self.input_namespace or ""
        )
        return (*super().required_permissions, inputs)

    def desired_specs(
        self, hook: K8sConfigMapHook, namespace: str
    ) -> tuple[list[ConfigMapSpec], list[Finding]]:
        """Return the specs rendered from every listed input, each recording (and owned by) its input."""
        from airflow_k8s_reconcile.domain.reconcile.desired.spec import InputRef
        from airflow_k8s_reconcile.hooks.manifests import spec_from_mapping

        if not callable(self.render):
            raise AirflowFailException(
                f"render must be a callable returning specs, not {type(self.render).__name__}"
            )
        inputs = hook.list_custom_objects(
            self.group,
            self.version,
            self.plural,
            namespace=self.input_namespace,
            label_selector=self.label_selector,
        )
        self.log.info("Rendering from %d %s.%s input(s)", len(inputs), self.plural, self.group)
        specs: list[ConfigMapSpec] = []
        found: list[Finding] = []
        for obj in inputs:
            ref = InputRef.from_object(obj, plural=self.plural)
            where = f"render({ref.kind} {ref.namespace + '/' if ref.namespace else ''}{ref.name})"
            for index, item in enumerate(self.render(obj) or ()):
                made, problems = spec_from_mapping(
                    item, namespace=ref.namespace or namespace, where=f"{where}[{index}]"
                )
                found += problems
                owner = ref if self.set_owner_reference else None
                specs += [
                    dataclasses.replace(spec, inputs=(*spec.inputs, ref), controlled_by=owner)
                    for spec in made
                ]
        return specs, found


__all__ = ["K8sGenerateConfigMapsOperator", "Render"]
