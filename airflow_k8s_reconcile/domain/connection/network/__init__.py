"""The network path to the API server, hop by hop: proxy, DNS, TCP, TLS and readiness, and what each failure means."""
