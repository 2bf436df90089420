"""Desired state: ConfigMap specs and their inputs, local validation, and the ownership and content markers."""
