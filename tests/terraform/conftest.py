"""Fixtures of the infrastructure tests. The one real synthesis of every environment (``synthesis``) and its
environment (``synth_environment``) live in tests/conftest.py: tests/ops estimates costs from the same JSON.

The tests import ``terraform.*`` (never cdktf itself).
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def environment_stacks(synth_environment: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app's stack objects per environment, for cdktf.Testing (``terraform.testing``)."""
    from terraform.app import build_app

    _, stacks = build_app(["dev", "prod"], tmp_path_factory.mktemp("testing") / "cdktf.out")
    return {entry.environment.name: entry for entry in stacks}
