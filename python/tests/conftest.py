"""Every test runs against the in-process simulator: no network, no cloud account."""

from __future__ import annotations

from typing import Iterator

import pytest

import hwc_workspace as hw


@pytest.fixture
def sim() -> Iterator[hw.Simulator]:
    with hw.Simulator() as simulator:
        yield simulator


@pytest.fixture
def client(sim: hw.Simulator) -> Iterator[hw.Client]:
    with sim.client() as c:
        yield c


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No credentials anywhere the chain looks: HOME is an empty directory, every
    HUAWEICLOUD_SDK_* variable is unset, and the instance metadata service is off (nothing
    here may reach 169.254.169.254)."""
    import os

    for name in list(os.environ):
        if name.startswith("HUAWEICLOUD_SDK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("empty-home")))
    monkeypatch.setenv("HWC_METADATA_ENDPOINT", "off")
