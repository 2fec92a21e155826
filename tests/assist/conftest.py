import pytest

from assist import retrieval


@pytest.fixture(autouse=True)
def _fresh_index():
    """The BM25 matrix is cached per process by generation; tests roll the DB back under it."""
    retrieval.reset_cache()
    yield
    retrieval.reset_cache()
