"""Build the API reference from the docstrings with pdoc (docs/api.md).

    .venv/bin/python scripts/apidoc.py [OUTDIR]      # default build/api; open OUTDIR/index.html

Every warning pdoc raises (a module that does not import, an annotation it cannot evaluate, a
docstring include it cannot read) is an error. tests/packaging/test_apidoc.py builds it and
also checks that each ``:func:``-style cross reference names something that exists.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pdoc
import pdoc.render

#: The public modules (docs/api.md); the compatibility aliases (cocoverify.ear, ...) are these.
MODULES = [
    "cocoverify",
    "cocoverify.errors",
    "cocoverify.result",
    "cocoverify.trust",
    "cocoverify.policy",
    "cocoverify.collateral",
    "cocoverify.integrations.trustee",
    "cocoverify.integrations.ear",
    "cocoverify.integrations.rego",
    "cocoverify.integrations.kbs",
    "cocoverify.batch",
    "cocoverify.hazmat",
]


def build(out: Path) -> None:
    """Write the HTML reference of :data:`MODULES` into ``out``."""
    pdoc.render.configure(docformat="restructuredtext", show_source=False, search=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pdoc.pdoc(*MODULES, output_directory=out)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/api")
    build(target)
    print(f"API reference: {target / 'index.html'}")
