"""Compatibility alias: moved to :mod:`cocoverify.integrations.trustee`."""

import sys

from cocoverify.integrations import trustee as _module

sys.modules[__name__] = _module
