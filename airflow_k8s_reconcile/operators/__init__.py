"""Thin Airflow operators: validate rendered arguments, read through hooks, decide in ``domain``, write through hooks."""
