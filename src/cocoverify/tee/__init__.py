"""One package per TEE, each with the same inner shape (docs/architecture.md).

TEE packages never import each other; :mod:`cocoverify.registry` is the one list of them.
"""
