from __future__ import annotations

import pytest

from layers.solar.sky import read_weather, sun_and_sky
from tests.solar.helpers import EPW


@pytest.fixture(scope="session")
def weather():
    return read_weather(EPW)


@pytest.fixture(scope="session")
def sky_perez(weather):
    return sun_and_sky(weather, "perez")


@pytest.fixture(scope="session")
def sky_iso(weather):
    return sun_and_sky(weather, "isotropic")
