"""Connections: from hook arguments, an Airflow connection and the environment to one cluster source.

- ``settings`` / ``setting_parsers``: the connection's fields and hook arguments, parsed and merged (argument >
  connection > environment).
- ``kubeconfig/``: which files (``locate``), their text (``parse``), merging and context selection (``merge``),
  and cluster / user entries (``entries``).
- ``incluster``: the pod's service account.
- ``credentials/``: credential kinds and token inspection (``kinds``), certificates, exec plugins, auth providers.
- ``files``: the read port through which the resolver sees files.
- ``resolution``: the one-pass resolver; ``explanation``: what was chosen and why, secret-free.
- ``api_errors``: what a transport failure or an API error status means, and the fix.
- ``connection_test``: how the connection test's observations become findings.
"""
