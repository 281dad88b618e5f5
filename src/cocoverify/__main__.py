"""``python -m cocoverify``."""

import sys

from cocoverify.cli import main

sys.exit(main())
