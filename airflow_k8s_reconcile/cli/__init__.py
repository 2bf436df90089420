"""The ``airflow-k8s-reconcile`` command. Subcommands import what they need only when they run."""
