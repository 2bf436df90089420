"""The API server's side: the requests the connection test and preflight make, and what an error answer means."""
