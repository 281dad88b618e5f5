"""TEST ONLY: fake vendor PKIs and evidence builders.

Everything here signs with fixed, published test keys. Nothing produced here must ever be
trusted outside tests; the real trust store never pins these roots.
"""
