"""Kubeconfig handling with client-go's rules: locate the files, parse them, merge, select a context, read entries."""
