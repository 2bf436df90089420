"""Thin Airflow sensors (poke and deferrable) built on the hooks."""
