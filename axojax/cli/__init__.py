"""Command line interface `axojax` (nothing imports this package)."""

from ._main import main as main
