"""Performing a reconcile: raw JSON requests and list pages, one reconcile run, Events."""
