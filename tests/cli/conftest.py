import pytest

from axojax.cli._pipeline import RunConfig, run_pipeline


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One `tiny` end-to-end run shared by the CLI and notebook tests: (out dir, metrics)."""
    out = tmp_path_factory.mktemp("run")
    metrics = run_pipeline(out, RunConfig.preset_config("tiny"))
    return out, metrics
