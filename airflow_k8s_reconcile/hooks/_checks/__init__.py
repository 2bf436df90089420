"""Performing check plans: the sync and async runners, the review models they read, the network probes."""
