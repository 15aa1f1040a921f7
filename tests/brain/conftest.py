import pytest

from axojax.brain import Brain, default_brain


@pytest.fixture(scope="session")
def mni_brain() -> Brain:
    """The embedded 2 mm MNI brain, loaded once."""
    return default_brain(2.0)
