"""Compatibility alias: moved to :mod:`cocoverify.integrations.ear`."""

import sys

from cocoverify.integrations import ear as _module

sys.modules[__name__] = _module
