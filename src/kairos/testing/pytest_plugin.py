"""The kairos pytest plugin (registered as the ``pytest11`` entry point ``kairos``).

Fixtures:

``kairos_no_network``
    Real network calls through httpx fail with :class:`kairos.testing.NetworkBlocked` for the
    duration of the test; in-memory doubles and transports keep working. Use it per test, or
    for a whole suite with ``pytestmark = pytest.mark.usefixtures("kairos_no_network")`` or an
    autouse fixture in your ``conftest.py`` that requests it.

``kairos_no_network_but_loopback``
    The same, but requests to 127.0.0.1 / localhost / ::1 are allowed (a local test server).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._guard import block_network

__all__ = ["kairos_no_network", "kairos_no_network_but_loopback"]


@pytest.fixture
def kairos_no_network() -> Iterator[block_network]:
    with block_network() as guard:
        yield guard


@pytest.fixture
def kairos_no_network_but_loopback() -> Iterator[block_network]:
    with block_network(allow_loopback=True) as guard:
        yield guard
