import pytest

from axojax.pipeline import RunConfig, run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One `tiny` end-to-end run shared by the CLI and notebook tests: (out dir, metrics)."""
    out = tmp_path_factory.mktemp("run")
    metrics = run(RunConfig.preset_config("tiny"), out)
    return out, metrics
