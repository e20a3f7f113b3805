from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from salesflow.config import REPO_ROOT, ConfigError, environment_names, load_environment


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _dev_data() -> dict:
    return yaml.safe_load((REPO_ROOT / "environments" / "dev.yaml").read_text(encoding="utf-8"))


def test_every_environment_file_is_valid() -> None:
    assert environment_names() == ["dev", "prod"]
    for name in environment_names():
        environment = load_environment(name)
        assert environment.name == name
        assert environment.flink_catalog == environment.confluent.environment.display_name
        assert environment.flink_database == environment.confluent.kafka_cluster.display_name


def test_every_yaml_field_has_a_comment() -> None:
    """Each key line is preceded by a comment line (or carries one), so the file documents itself."""
    for path in sorted((REPO_ROOT / "environments").glob("*.yaml")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            match = re.match(r"^(\s*)(- )?([a-z_]+):\s*(\S.*)?$", line)
            if not match or match.group(4) is None or match.group(4).startswith("#"):
                continue  # a block opener: its children carry the comments
            previous = lines[number - 1].strip() if number else ""
            assert previous.startswith("#") or "#" in line, (
                f"{path.name}:{number + 1}: {line.strip()} has no comment"
            )


def test_bad_value_names_file_field_and_allowed_values(tmp_path: Path) -> None:
    data = _dev_data()
    data["confluent"]["kafka_cluster"]["type"] = "huge"
    path = _write(tmp_path, "dev", data)
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    message = str(error.value)
    assert str(path) in message
    assert "confluent.kafka_cluster.type" in message
    for allowed in ("basic", "standard", "enterprise", "dedicated"):
        assert allowed in message
    assert "'huge'" in message


def test_unknown_field_is_rejected_so_no_secret_can_be_added(tmp_path: Path) -> None:
    data = _dev_data()
    data["confluent"]["pii"]["pepper"] = "s3cr3t-value"
    with pytest.raises(ConfigError, match=r"confluent\.pii\.pepper: unknown field"):
        load_environment(_write(tmp_path, "dev", data))


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("exporter", "schedule", "time_zone"), "Mars/Olympus", "unknown IANA time zone"),
        (("exporter", "schedule", "cron"), "0 6 * * MON *", "exactly one of day-of-month and day-of-week"),
        (("exporter", "schedule", "cron"), "30 2 ? * MON *", "daylight-saving gap"),
        (("exporter", "lambda", "architecture"), "sparc", "allowed values: 'arm64' or 'x86_64'"),
        (("exporter", "analysts"), [], "at least 1"),
        (("confluent", "flink", "state_ttl"), "1 min", "state_ttl must be longer than watermark_delay"),
        (("confluent", "flink", "watermark_delay"), "ten minutes", "does not match"),
        (("confluent", "flink", "dedup"), "keep_last", "'first_row' or 'window'"),
        (("confluent", "flink", "dedup_window"), "30 s", "dedup_window must be at least 1 min"),
        (("confluent", "flink", "dedup_window"), "6 h", "must stay within 6 h"),
        (("confluent", "tableflow", "storage"), "byob", "needs a byob block"),
        (("confluent", "kafka_cluster", "id"), "cluster-1", "confluent.kafka_cluster.id"),
        (("exporter", "notify"), "pigeon", "allowed values: 'email' or 'sns'"),
        (("exporter", "email"), None, "notify 'email' needs the exporter.email and exporter.downloads"),
        (("exporter", "email", "from_address"), "me@elsewhere.example", "an address at sender_domain"),
        (("exporter", "downloads", "active_key"), "k9", "must be one of signing_keys"),
        (("exporter", "downloads", "signing_keys"), ["k1", "k1"], "signing_keys must be unique"),
        (("exporter", "downloads", "link_days"), 0, "greater than or equal to 1"),
    ],
)
def test_invalid_values_are_explained(
    tmp_path: Path, path: tuple[str, ...], value: object, expected: str
) -> None:
    data = _dev_data()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as error:
        load_environment(_write(tmp_path, "dev", data))
    assert expected in str(error.value)
    assert ".".join(path[:2]) in str(error.value)


def test_file_name_must_match_environment_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must equal the file name 'staging'"):
        load_environment(_write(tmp_path, "staging", _dev_data()))


def test_missing_environment_lists_known_ones() -> None:
    with pytest.raises(ConfigError, match="known environments: dev, prod"):
        load_environment("qa")


def test_adopt_existing_cluster_by_id(tmp_path: Path) -> None:
    assert not load_environment("dev").confluent.kafka_cluster.adopt
    data = _dev_data()
    data["confluent"]["kafka_cluster"]["id"] = "lkc-abc123"
    data["confluent"]["environment"]["id"] = "env-xyz9"
    adopted = load_environment(_write(tmp_path, "dev", data))
    assert adopted.confluent.kafka_cluster.adopt
    assert adopted.confluent.environment.adopt


def test_bootstrap_settings_are_validated_with_the_field_and_the_fix(tmp_path: Path) -> None:
    data = _dev_data()
    data["bootstrap"]["github_repository"] = "not a repository"
    with pytest.raises(ConfigError, match=r"bootstrap\.github_repository: does not match"):
        load_environment(_write(tmp_path, "dev", data))
    data = _dev_data()
    data["bootstrap"]["reviewers"] = {"users": [f"user{n}" for n in range(5)], "teams": ["a", "b"]}
    with pytest.raises(ConfigError, match="bootstrap: GitHub takes at most 6 reviewers"):
        load_environment(_write(tmp_path, "dev", data))


def test_each_role_trusts_exact_subjects_of_its_own_environment() -> None:
    names = load_environment("dev").names
    assert names.github_subjects("plan") == (
        "repo:example-org/salesflow:pull_request",
        "repo:example-org/salesflow:environment:dev-plan",
    )
    assert names.github_subjects("deploy") == ("repo:example-org/salesflow:environment:dev",)
    assert names.role("smoke") == "salesflow-dev-github-smoke"
    assert names.state_key == "salesflow/dev/bootstrap.tfstate"
    with pytest.raises(ValueError, match="no bootstrap role 'admin'"):
        names.github_subjects("admin")
