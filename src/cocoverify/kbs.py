"""Compatibility alias: moved to :mod:`cocoverify.integrations.kbs`."""

import sys

from cocoverify.integrations import kbs as _module

sys.modules[__name__] = _module
