"""Command line and the end-to-end pipeline (`axojax run`): the only place that wires all stages."""

from ._main import main as main
from ._pipeline import STAGES as STAGES
from ._pipeline import RunConfig as RunConfig
from ._pipeline import run_pipeline as run_pipeline
