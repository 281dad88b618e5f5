"""Ecosystem adapters built on the public API only: trustee, EAR, Rego and KBS helpers."""
