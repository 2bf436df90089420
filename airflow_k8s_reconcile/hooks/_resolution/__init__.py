"""Resolution with the real world plugged in: the read port, the environment and clock, exec plugins."""
