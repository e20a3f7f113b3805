"""``flink_statements/statements.lock.json``: the identity of every statement version ever released.

Confluent replaces a running statement when its text changes and the provider fails at apply when
only its properties change, so a released version is immutable: the lock maps each statement name
(``<env>-<id>-v<N>``) to the sha256 of its Confluent rendering (text, properties and the hashes of
the statements it depends on). ``salesflow sql lock`` adds new names and never changes an existing
entry; ``tests/sql/test_sql_lock.py`` fails when a rendered statement differs from its entry or has none.
Old entries stay: they are the history a ``git revert`` returns to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from salesflow.config import Environment
from salesflow.events.files import atomic_output
from salesflow.sql.render import STATEMENTS_DIR, RenderedStatement, render_every_variant

LOCK_FILE = STATEMENTS_DIR / "statements.lock.json"
_ABOUT = (
    "sha256 of each released Flink statement version (confluent target). Never edit an entry: bump the "
    "statement's version for that environment in statements.yaml, then run `salesflow sql lock`."
)


class LockError(ValueError):
    """The lock file is unreadable or a released version changed; the message says what to do."""


@dataclass(frozen=True)
class LockCheck:
    changed: list[str]  # names whose rendering differs from the locked hash
    missing: list[str]  # names not in the lock yet

    def problems(self) -> list[str]:
        fix = "bump its version for that environment in flink_statements/statements.yaml"
        return [
            f"{name}: its rendered text or properties changed since it was locked; {fix}, then run "
            "`salesflow sql lock`"
            for name in self.changed
        ] + [
            f"{name}: not in {LOCK_FILE.name}; run `salesflow sql lock` and commit the lock file"
            for name in self.missing
        ]


def load_lock(path: Path = LOCK_FILE) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        statements = document["statements"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise LockError(f"{path}: not a statements lock file ({exc}); restore it from git") from None
    if not isinstance(statements, dict):
        raise LockError(f"{path}: 'statements' must map statement names to sha256 hashes")
    return dict(statements)


def rendered_for_lock(
    environments: list[Environment], statements_dir: Path = STATEMENTS_DIR
) -> list[RenderedStatement]:
    """Every environment's statements under both dedup variants: the variant an environment does not
    select is locked too, so switching to it runs text that was reviewed, linted and tested."""
    return [
        statement
        for environment in environments
        for statement in render_every_variant(environment, statements_dir)
    ]


def check_lock(statements: list[RenderedStatement], lock: dict[str, str]) -> LockCheck:
    changed = [s.name for s in statements if s.name in lock and lock[s.name] != s.sha256]
    missing = [s.name for s in statements if s.name not in lock]
    return LockCheck(changed=changed, missing=missing)


def update_lock(statements: list[RenderedStatement], path: Path = LOCK_FILE) -> list[str]:
    """Add every statement not yet locked; refuse if a locked one changed. Returns the added names."""
    lock = load_lock(path)
    check = check_lock(statements, lock)
    if check.changed:
        raise LockError("\n".join(LockCheck(changed=check.changed, missing=[]).problems()))
    if not check.missing:
        return []
    by_name = {s.name: s.sha256 for s in statements}
    lock |= {name: by_name[name] for name in check.missing}
    document = {"about": _ABOUT, "statements": dict(sorted(lock.items()))}
    with atomic_output(path) as handle:
        handle.write((json.dumps(document, indent=2) + "\n").encode("utf-8"))
    return check.missing
