"""The Lambda zip: reproducible, within budget, named by its SHA-256, importable with python3.12."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile

import pytest

from exporter import package


@pytest.mark.slow
def test_two_builds_give_the_same_files_and_the_zip_imports(tmp_path) -> None:
    """The second build stages the same files as the first zip holds; zipping them again would only repeat
    write_zip, whose bytes depend on the files alone (test_the_zip_depends_only_on_the_files)."""
    python = package.find_python312()
    first = package.build("x86_64", tmp_path / "one", python)
    second = package.stage("x86_64", tmp_path / "two", python, package.EXPORTER)
    assert first.path.name == f"salesflow-exporter-x86_64-{first.sha256}.zip"
    with zipfile.ZipFile(first.path) as archive:
        zipped = {
            info.filename: hashlib.sha256(archive.read(info)).hexdigest() for info in archive.infolist()
        }
    staged = {
        path.relative_to(second).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in second.rglob("*")
        if path.is_file()
    }
    assert sorted(set(zipped) ^ set(staged)) == []
    assert [name for name in zipped if zipped[name] != staged[name]] == []
    manifest = json.loads((tmp_path / "one" / "artifact-x86_64.json").read_text())
    assert manifest == {
        "file": first.path.name,
        "sha256": first.sha256,
        "architecture": "x86_64",
        "python": "3.12",
        "unzipped_bytes": first.unzipped_bytes,
        "zipped_bytes": first.path.stat().st_size,
        "s3_key": f"exporter/{first.sha256}.zip",
    }
    assert first.unzipped_bytes <= package.BUDGET_UNZIPPED
    with zipfile.ZipFile(first.path) as archive:
        names = archive.namelist()
        infos = archive.infolist()
    assert names == sorted(names)
    assert {info.date_time for info in infos} == {package.ZIP_TIME}
    assert "exporter/handler.py" in names and "exporter/reports.yaml" in names
    assert {"exporter/notice/__init__.py", "exporter/notice/templates/email.html.j2",
            "exporter/notice/templates/email.txt.j2"} <= set(names)  # fmt: skip
    assert any(name.startswith("cryptography/") for name in names) and "jinja2/__init__.py" in names
    assert "exporter/package.py" not in names
    assert not [
        name for name in names if name.endswith((".pyc", "/RECORD", ".pyi")) or name.startswith("bin/")
    ]
    assert not [
        name for name in names if name.startswith(("pyarrow/include/", "pyarrow/_flight", "sqlalchemy/"))
    ]
    assert "pyarrow/libarrow_s3.so.2600" in names or any(
        n.startswith("pyarrow/libarrow_s3.so") for n in names
    )
    assert json.loads(package.smoke_test(first, python))["python"].startswith("3.12")


def test_the_zip_depends_only_on_the_files(tmp_path) -> None:
    """Same files written in another order, with other times and permissions: the same zip bytes; one
    changed byte: other bytes."""
    files = {"a.txt": b"alpha", "pkg/__init__.py": b"", "pkg/lib.so": bytes(range(256)) * 64}
    zips = []
    for index, order in enumerate((list(files), list(reversed(files)))):
        tree = tmp_path / f"tree-{index}"
        for number, name in enumerate(order):
            path = tree / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(files[name])
            path.chmod(0o600 if index else 0o755)
            os.utime(path, (1_000_000 * (number + index), 2_000_000 * (number + index)))
        package.write_zip(tree, tmp_path / f"{index}.zip")
        zips.append((tmp_path / f"{index}.zip").read_bytes())
    assert zips[0] == zips[1]
    (tmp_path / "tree-1" / "a.txt").write_bytes(b"alphA")
    package.write_zip(tmp_path / "tree-1", tmp_path / "changed.zip")
    assert (tmp_path / "changed.zip").read_bytes() != zips[0]


def test_the_strip_check_detects_a_changed_loaded_segment(tmp_path) -> None:
    """The proof that strip left the loaded image alone can fail: flip one byte inside a PT_LOAD segment."""
    import pyarrow

    library = next(p for p in __import__("pathlib").Path(pyarrow.__file__).parent.glob("libarrow.so.*"))
    data = library.read_bytes()
    image = package._loaded_image(data)
    changed = bytearray(data)
    changed[0x1000] ^= 0xFF
    assert package._loaded_image(bytes(changed)) != image
    blanked = bytearray(data)
    blanked[0x28:0x30] = bytes(8)  # a moved section table is not a change of the loaded image
    assert package._loaded_image(bytes(blanked)) == image


def test_requirements_come_from_the_lock_without_local_only_packages() -> None:
    requirements = package.exported_requirements()
    names = {line.split("==")[0].lower() for line in requirements}
    assert {
        "pyiceberg",
        "pyarrow",
        "boto3",
        "aws-lambda-powertools",
        "pyyaml",
        "cryptography",
        "jinja2",
    } <= names
    assert not names & package.DROP_PACKAGES
    assert all("==" in line for line in requirements), "every dependency is pinned"


def test_the_exporter_never_imports_salesflow() -> None:
    """The Lambda zip holds exporter/ without salesflow: an import of it would fail only in AWS."""
    import ast
    from pathlib import Path

    for path in sorted(Path(package.EXPORTER_DIR).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [name for name in names if name.split(".")[0] == "salesflow"], path.name
