"""Test toolkit shipped with the provider: a real local control plane and pytest fixtures.

``LocalControlPlane`` runs etcd, kube-apiserver and kube-controller-manager on loopback, like Go's envtest. The
pytest plugin (registered through the ``pytest11`` entry point) exposes ``k8s_cluster``, ``k8s_namespace``,
``k8s_identity`` and the ``min_k8s`` marker, so DAG authors can test against a real API server too.
"""
