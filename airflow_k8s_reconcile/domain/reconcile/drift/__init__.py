"""Drift: how live objects differ from the desired state, who changed them, flapping, and judging watch events."""
