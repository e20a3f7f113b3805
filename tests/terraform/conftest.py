"""Fixtures of the infrastructure tests: one real synthesis of every environment, shared by the session.

The tests import ``terraform.*`` (never cdktf itself). Synthesis uses the fixture exporter manifest
(``fixtures/artifact-arm64.json``) in place of ``make package``'s, with a marker pepper and marker
credentials in the environment that must never reach the output.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from infra_support import FIXTURE_MANIFEST, MARKER_CREDENTIALS, Synthesis, run_synth


@pytest.fixture(scope="session")
def synth_environment() -> Iterator[None]:
    """Fixture manifest, marker pepper and marker credentials for the whole session."""
    values = {"SALESFLOW_EXPORTER_MANIFEST": str(FIXTURE_MANIFEST), **MARKER_CREDENTIALS}
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def synthesis(synth_environment: None, tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return run_synth(tmp_path_factory.mktemp("synth") / "cdktf.out")


@pytest.fixture(scope="session")
def environment_stacks(synth_environment: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app's stack objects per environment, for cdktf.Testing (``terraform.testing``)."""
    from terraform.app import build_app

    _, stacks = build_app(["dev", "prod"], tmp_path_factory.mktemp("testing") / "cdktf.out")
    return {entry.environment.name: entry for entry in stacks}
