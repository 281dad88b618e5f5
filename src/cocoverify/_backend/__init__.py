"""_backend."""
