"""Credentials: the kinds a kubeconfig or a pod can hold, and how each is inspected (expiry, subject, key match)."""
