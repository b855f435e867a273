import logging

import pytest

from recsys.data import load_history
from tests.helpers import SAMPLE


@pytest.fixture(scope="session")
def sample_history():
    """The bundled 400-customer UCI Online Retail sample, loaded once."""
    logging.getLogger("recsys").setLevel(logging.WARNING)
    return load_history(SAMPLE, preset="online-retail")
