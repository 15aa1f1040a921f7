"""Command line (`axojax run`, `predict`, ...): parses arguments, calls `axojax.pipeline`, prints."""

from ._main import main as main
