"""Compatibility alias: moved to :mod:`cocoverify.integrations.rego`."""

import sys

from cocoverify.integrations import rego as _module

sys.modules[__name__] = _module
