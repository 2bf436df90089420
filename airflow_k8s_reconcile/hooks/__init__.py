"""I/O adapters: the only production code that talks to the Kubernetes API or reads credential files."""
