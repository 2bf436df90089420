"""Talking to the API server: isolated clients, the hook's renewing credential, TLS material, the retry policy."""
