"""What every subpackage's commands share: the ``--env`` option and loading an environment or failing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import click

from salesflow.config import ConfigError, Environment, environment_names, load_environment


def fail(message: str) -> NoReturn:
    """Stop the command with ``message`` (click prints ``Error: <message>`` and exits 1)."""
    raise click.ClickException(message)


def environment_option(help_text: str, **settings: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--env NAME``, one of ``environments/*.yaml`` (required unless ``default`` is given)."""
    settings.setdefault("required", "default" not in settings)
    return click.option("--env", "env", type=click.Choice(environment_names()), help=help_text, **settings)


def load_or_fail(name: str) -> Environment:
    """The validated environment, or a command error naming the file, the field and the fix."""
    try:
        return load_environment(name)
    except ConfigError as exc:
        fail(str(exc))
