"""Build a Lambda zip reproducibly: ``python -m exporter.package --arch arm64 [--deployable monitor]``.

Not shipped in any zip (a build tool, not Lambda code). It builds both deployables, each from its own
dependency group of uv.lock and its own folder (``Deployable``: ``EXPORTER``, ``MONITOR``); it started as the
exporter's and stays here so that the exporter's zip is built exactly as before. Steps (for the exporter;
the monitor's zip follows the same steps with its own lists):

1. Pinned dependencies of uv.lock's ``exporter`` group (``uv export``), installed for CPython 3.12 and
   the target architecture from manylinux wheels only: downloaded once into a local wheelhouse by
   python3.12's pip (``--platform ... --only-binary=:all:``, so environment markers are evaluated for the
   Lambda runtime), installed from there by ``uv pip install --target`` (the same files as pip's, in a
   quarter of its CPU time).
2. Trim what Lambda never imports (see ``TRIM``): pyarrow's Flight, Substrait, Gandiva, CUDA, headers,
   Cython sources and tests; type stubs; symbol tables and debug info of shared objects (``strip``,
   checked to leave every loaded segment byte-identical); botocore service models other than the ones
   used; the SQL catalog's SQLAlchemy (local runs only); console scripts; the installers' bookkeeping
   (RECORD, INSTALLER, uv's cache notes and lock file).
   pyarrow's S3 filesystem, dataset, Parquet and ZSTD stay.
3. Add ``exporter/`` (code and reports.yaml) and zip with sorted entries, a fixed timestamp and fixed
   permissions, so the same inputs give the same SHA-256, which names the artifact.
4. Smoke test: unzip and import the handler with python3.12 from the unzipped tree, check pyarrow's
   S3 filesystem and ZSTD, create the boto3 clients, and call the handler (which must fail with the
   settings error: the full import chain ran). Native code cannot be imported across architectures,
   so for arm64 the same steps build an x86_64 twin that is import-tested instead; the arm64 tree
   must have the same Python files as the twin and only aarch64 ELF objects.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
EXPORTER_DIR = REPO_ROOT / "exporter"
BUILD_DIR = REPO_ROOT / "build" / "exporter"
WHEELHOUSE = REPO_ROOT / ".salesflow" / "cache" / "wheels"  # git-ignored; see install()
PYTHON_VERSION = "3.12"
BUDGET_UNZIPPED = 150 * 1024 * 1024  # MiB, as Lambda counts its 250 MB limit
MONITOR_BUDGET_UNZIPPED = 20 * 1024 * 1024
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PLATFORMS = {
    "arm64": ("manylinux2014_aarch64", "manylinux_2_17_aarch64", "manylinux_2_28_aarch64"),
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64"),
}
UV_PLATFORMS = {
    "arm64": "aarch64-manylinux_2_28",
    "x86_64": "x86_64-manylinux_2_28",
}  # the newest of PLATFORMS
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
# GNU strip for each target (Debian: binutils for x86_64, binutils-aarch64-linux-gnu for arm64).
STRIP = {
    "arm64": ("aarch64-linux-gnu-strip", "binutils-aarch64-linux-gnu"),
    "x86_64": ("x86_64-linux-gnu-strip", "binutils"),
}
# Only the SQL catalog (local runs) needs SQLAlchemy; the Lambda reads Tableflow's REST catalog. rich and
# its helpers serve pyiceberg's own command line and table printing only (imported lazily there).
DROP_PACKAGES = {"sqlalchemy", "greenlet", "rich", "pygments", "markdown-it-py", "mdurl"}
# botocore service models the exporter (and boto3's credential chain) loads.
BOTOCORE_SERVICES = {"s3", "sns", "ses", "secretsmanager", "sts", "sso", "sso-oidc"}
# Glob patterns (relative to the package root) removed from the tree.
TRIM = (
    "bin/*",
    "*/__pycache__/*",
    "*.pyc",
    "*.pyi",
    "*.dist-info/RECORD",
    "*.dist-info/INSTALLER",
    "*.dist-info/uv_cache.json",
    ".lock",
    "*.dist-info/REQUESTED",
    "*.dist-info/direct_url.json",
    "pyarrow/include/*",
    "pyarrow/src/*",
    "pyarrow/tests/*",
    "pyarrow/*.pxd",
    "pyarrow/*.pyx",
    "pyarrow/*.pxi",
    "pyarrow/*/*.pxd",
    "pyarrow/*/*.pyx",
    "pyarrow/_flight*",
    "pyarrow/flight.py",
    "pyarrow/libarrow_flight.so*",
    "pyarrow/libarrow_python_flight.so*",
    "pyarrow/_substrait*",  # libarrow_substrait itself stays: pyarrow.lib links it
    "pyarrow/substrait.py",
    "pyarrow/_gandiva*",
    "pyarrow/gandiva.py",
    "pyarrow/libgandiva.so*",
    "pyarrow/_cuda*",
    "pyarrow/cuda.py",
    "pyarrow/_pyarrow_cpp_tests*",
    "pyarrow/libarrow_python.so",  # copies of libarrow_python.so.<major>, the name the modules link
    "pyarrow/libarrow_python.so.*.*.*",
    "pyarrow/*parquet_encryption*",  # Parquet modular encryption: Tableflow's files are not encrypted
    "pyarrow/_orc*",
    "pyarrow/_dataset_orc*",
    "pyarrow/orc.py",
    "pyarrow/_hdfs*",
    "pyarrow/_gcsfs*",
    "pyarrow/_azurefs*",
    "pyarrow/_feather*",
    "pyarrow/feather.py",
    "pyarrow/interchange/*",
    "pyarrow/benchmark.py",
    "pyarrow/*.cmake",
    "pyarrow/cmake/*",
    "pyarrow/lib.h",
    "pyarrow/lib_api.h",
    "pyiceberg/cli/*",
    "hive_metastore/*",  # pyiceberg's Hive catalog (Thrift)
    "zstandard/_cffi*",  # the CFFI backend; zstandard loads its C backend
    "zstandard/backend_cffi.py",
    "aws_lambda_powertools/event_handler/*",
)


class PackageError(RuntimeError):
    """The build failed; the message says which step and why."""


@dataclass(frozen=True)
class Deployable:
    """A Lambda the repository ships: ``<name>/`` holds its code, uv.lock's ``<group>`` its dependencies;
    its zip is ``build/<name>/salesflow-<name>-<arch>-<sha256>.zip``, its S3 key ``<name>/<sha256>.zip``."""

    name: str
    group: str
    drop_packages: frozenset[str]
    botocore_services: frozenset[str]
    trim: tuple[str, ...]
    files: tuple[str, ...]  # glob patterns (relative to ``<name>/``) of what the zip ships
    smoke: str
    budget: int

    @property
    def source(self) -> Path:
        return REPO_ROOT / self.name

    @property
    def build_dir(self) -> Path:
        return REPO_ROOT / "build" / self.name


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str
    architecture: str
    unzipped_bytes: int
    zipped_bytes: int
    deployable: str = "exporter"

    def manifest(self) -> dict[str, object]:
        return {
            "file": self.path.name,
            "sha256": self.sha256,
            "architecture": self.architecture,
            "python": PYTHON_VERSION,
            "unzipped_bytes": self.unzipped_bytes,
            "zipped_bytes": self.zipped_bytes,
            "s3_key": f"{self.deployable}/{self.sha256}.zip",
        }


def find_python312() -> str:
    """python3.12 from $PYTHON312, PATH (working, not a pyenv shim that refuses) or pyenv's versions."""
    candidates = [os.environ.get("PYTHON312", ""), shutil.which("python3.12") or ""]
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
        candidates += sorted(str(path) for path in Path(root).glob("versions/3.12*/bin/python3.12"))
    except (OSError, subprocess.CalledProcessError):
        pass
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == PYTHON_VERSION:
            return candidate
    raise PackageError(
        "python3.12 not found: install it (pyenv install 3.12) or set PYTHON312=/path/to/python3.12"
    )


def exported_requirements(deployable: Deployable | None = None) -> list[str]:
    """A deployable's group's pinned closure from uv.lock, minus packages the Lambda never loads."""
    deployable = deployable or EXPORTER
    done = subprocess.run(
        [*_uv(), "export", "--only-group", deployable.group, "--no-hashes", "--no-emit-project", "--frozen",
         "--no-header", "--no-annotate"],
        cwd=REPO_ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise PackageError(f"uv export failed: {done.stderr.strip()}")
    lines = [line.strip() for line in done.stdout.splitlines() if line.strip() and not line.startswith("#")]
    drop = deployable.drop_packages
    return [line for line in lines if line.split("==")[0].split(";")[0].strip().lower() not in drop]


def _uv() -> list[str]:
    return [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]  # as the Makefile finds it


def install(requirements: list[str], arch: str, target: Path, python: str) -> None:
    """Install the pinned wheels from a local wheelhouse (``.salesflow/cache/wheels``) with uv, downloading
    them into it first with python3.12's pip when it lacks one (the first build, or a changed lock): a
    rebuild reads no index and installs the same files."""
    requirements_file = target.parent / f"requirements-{arch}.txt"
    requirements_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    wheels = WHEELHOUSE / f"cp{PYTHON_VERSION.replace('.', '')}-{arch}"
    offline = [*_uv(), "pip", "install", "--quiet", "--no-deps", "--only-binary", ":all:", "--python", python,
               "--python-version", PYTHON_VERSION, "--python-platform", UV_PLATFORMS[arch], "--no-index",
               "--find-links", str(wheels), "--link-mode", "copy", "--target", str(target),
               "-r", str(requirements_file)]  # fmt: skip
    done = subprocess.run(offline, capture_output=True, text=True, check=False)
    if done.returncode != 0:  # a wheel is missing from the wheelhouse: fetch the pinned ones, then install
        platform_args = [arg for tag in PLATFORMS[arch] for arg in ("--platform", tag)]
        fetch = [python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                 "--only-binary=:all:", "--implementation", "cp", "--python-version", PYTHON_VERSION,
                 *platform_args, "-r", str(requirements_file), "--dest", str(wheels)]  # fmt: skip
        fetched = subprocess.run(
            fetch, capture_output=True, text=True, check=False, env={**os.environ, "PIP_NO_INPUT": "1"}
        )
        if fetched.returncode != 0:
            raise PackageError(f"pip download for {arch} failed:\n{fetched.stderr.strip()}")
        done = subprocess.run(offline, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PackageError(f"uv pip install for {arch} failed:\n{done.stderr.strip()}")


def trim(tree: Path, deployable: Deployable | None = None) -> int:
    """Remove what Lambda never imports; returns the bytes removed."""
    deployable = deployable or EXPORTER
    removed = 0
    for path in sorted(tree.rglob("*")):
        if not path.is_file() and not path.is_symlink():
            continue
        relative = path.relative_to(tree).as_posix()
        drop = any(fnmatch.fnmatchcase(relative, pattern) for pattern in deployable.trim)
        if relative.startswith("botocore/data/"):
            service = relative.split("/")[2]
            drop = (
                "/" in relative.removeprefix(f"botocore/data/{service}")
                and service not in deployable.botocore_services
            )
        if drop:
            removed += path.lstat().st_size
            path.unlink()
    for directory in sorted((p for p in tree.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(directory.iterdir()):
            directory.rmdir()
    return removed


def _loaded_image(data: bytes) -> list[tuple[int, int, int, int, str]]:
    """What the dynamic loader maps of a 64-bit little-endian ELF file: its PT_LOAD segments (address,
    sizes, flags, content hash), with the ELF header's section-table fields blanked (strip rewrites them)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise PackageError("expected a 64-bit little-endian ELF file")
    image = bytearray(data)
    image[0x28:0x30] = bytes(8)  # e_shoff
    image[0x3C:0x40] = bytes(4)  # e_shnum, e_shstrndx
    phoff = int.from_bytes(data[0x20:0x28], "little")
    entry_size, count = int.from_bytes(data[0x36:0x38], "little"), int.from_bytes(data[0x38:0x3A], "little")
    segments = []
    for index in range(count):
        header = data[phoff + index * entry_size : phoff + (index + 1) * entry_size]
        if int.from_bytes(header[0:4], "little") != 1:  # PT_LOAD
            continue
        flags = int.from_bytes(header[4:8], "little")
        offset, vaddr = int.from_bytes(header[8:16], "little"), int.from_bytes(header[16:24], "little")
        filesz, memsz = int.from_bytes(header[32:40], "little"), int.from_bytes(header[40:48], "little")
        content = hashlib.sha256(image[offset : offset + filesz]).hexdigest()
        segments.append((vaddr, filesz, memsz, flags, content))
    return segments


def strip_native(tree: Path, arch: str) -> int:
    """``strip --strip-unneeded`` every shared object (symbol tables and debug info only), proving for each
    that the loaded image is unchanged. Returns the bytes saved."""
    tool, debian_package = STRIP[arch]
    strip = shutil.which(tool)
    if strip is None:
        raise PackageError(f"'{tool}' not found: install it (apt-get install {debian_package})")
    saved = 0
    for path in sorted(tree.rglob("*")):
        if not path.is_file() or not (path.suffix == ".so" or ".so." in path.name):
            continue
        before = path.read_bytes()
        if before[:4] != b"\x7fELF":
            continue
        done = subprocess.run(
            [strip, "--strip-unneeded", str(path)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise PackageError(f"strip failed on {path.relative_to(tree)}: {done.stderr.strip()}")
        after = path.read_bytes()
        if _loaded_image(after) != _loaded_image(before) or after[18:20] != before[18:20]:
            raise PackageError(f"strip changed the loaded image of {path.relative_to(tree)}")
        saved += len(before) - len(after)
    return saved


def add_sources(tree: Path, deployable: Deployable) -> None:
    """The deployable's own files (its ``files`` patterns, never this build tool), folders kept."""
    source_dir = deployable.source
    sources = {path for pattern in deployable.files for path in source_dir.glob(pattern)}
    for source in sorted(sources - {source_dir / "package.py"}):
        target = tree / deployable.name / source.relative_to(source_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def write_zip(tree: Path, destination: Path) -> int:
    """Sorted entries, fixed time and permissions: the bytes depend only on the tree's contents."""
    files = sorted(
        (path for path in tree.rglob("*") if path.is_file()), key=lambda p: p.relative_to(tree).as_posix()
    )
    unzipped = 0
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            data = path.read_bytes()
            unzipped += len(data)
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    return unzipped


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def stage(arch: str, tree: Path, python: str, deployable: Deployable) -> Path:
    """The files the zip holds, in ``tree``: the pinned wheels, trimmed and stripped, and the sources."""
    tree.mkdir()
    install(exported_requirements(deployable), arch, tree, python)
    trim(tree, deployable)
    strip_native(tree, arch)
    add_sources(tree, deployable)
    return tree


def build(
    arch: str,
    out_dir: Path | None = None,
    python: str | None = None,
    work: Path | None = None,
    deployable: Deployable | None = None,
) -> Artifact:
    """Build ``salesflow-<name>-<arch>-<sha256>.zip`` and ``artifact-<arch>.json`` in ``out_dir``
    (default ``build/<name>``)."""
    deployable = deployable or EXPORTER
    name = deployable.name
    if arch not in PLATFORMS:
        raise PackageError(f"unknown architecture {arch!r}: use arm64 or x86_64")
    python = python or find_python312()
    out_dir = out_dir or deployable.build_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{name}-{arch}-", dir=work) as scratch:
        tree = stage(arch, Path(scratch) / "tree", python, deployable)
        temporary = out_dir / f".salesflow-{name}-{arch}.zip.partial"
        unzipped = write_zip(tree, temporary)
    digest = sha256_of(temporary)
    final = out_dir / f"salesflow-{name}-{arch}-{digest}.zip"
    for stale in out_dir.glob(f"salesflow-{name}-{arch}-*.zip"):
        if stale != final:
            stale.unlink()
    temporary.replace(final)
    artifact = Artifact(final, digest, arch, unzipped, final.stat().st_size, name)
    manifest = json.dumps(artifact.manifest(), indent=2, sort_keys=True) + "\n"
    (out_dir / f"artifact-{arch}.json").write_text(manifest, encoding="utf-8")
    return artifact


SMOKE = r"""
import decimal, json, os, sys
import exporter.handler as h
import pyarrow as pa, pyarrow.fs, pyarrow.dataset, pyarrow.parquet
import pyiceberg.catalog.rest, pyiceberg.io.pyarrow
import boto3
assert h.__file__.startswith(sys.argv[1]), h.__file__
assert pa.Codec.is_available("zstd"), "ZSTD codec missing"
pyarrow.fs.S3FileSystem(region="eu-central-1", anonymous=True)
for service in ("s3", "sns", "ses", "secretsmanager"):
    boto3.client(service, region_name="eu-central-1")
from exporter.reports import load_reports, compute_listing, compute_aggregate
# The suspect-week rule and its EMF metrics (Powertools Metrics must survive the trim).
from exporter.judge import judge, metrics_document
verdict = judge(1, 1, [{"week": "2026-W45", "lines": 10, "orders": 4}], decimal.Decimal("0.5"))
assert verdict.suspect and metrics_document("smoke", 1, 1, verdict)["SuspectWeek"] == [1.0]
specs = load_reports()
assert set(specs) >= {"order_lines", "product_demand", "customer_behavior"}
# The trimmed pyarrow still writes/reads ZSTD Parquet, filters datasets and runs every report kernel.
import datetime, decimal, pathlib, tempfile
import pyarrow.compute as pc
from pyiceberg.expressions import GreaterThanOrEqual
from pyiceberg.io.pyarrow import expression_to_pyarrow
from exporter.csv_files import write_csv
from exporter.dedup import drop_duplicate_lines
folder = pathlib.Path(tempfile.mkdtemp())
utc = datetime.timezone.utc
times = [datetime.datetime(2026, 11, 16, h, tzinfo=utc) for h in (1, 1, 2, 2)]
rows = {
    "order_id": ["SO-1", "SO-1", "SO-2", "SO-2"], "line_number": pa.array([1, 1, 1, 2], pa.int32()),
    "channel": ["WEB"] * 4, "order_time": pa.array(times, pa.timestamp("us", tz="UTC")),
    "customer_key": ["k1", "k1", "k1", "k1"], "customer_city": ["Köln"] * 4,
    "customer_country": ["DE"] * 4, "sku": ["A", "A", "B", "C"], "product_name": ["a", "a", "b", "c"],
    "category": ["Books"] * 4, "quantity": pa.array([1, 1, 2, 3], pa.int32()),
    "unit_price": pa.array([decimal.Decimal("1.50")] * 4, pa.decimal128(10, 2)),
    "line_amount": pa.array([decimal.Decimal(v) for v in ("1.50", "1.50", "3.00", "4.50")],
                            pa.decimal128(12, 2)),
    "currency": ["EUR"] * 4, "payment_method": ["CARD"] * 4,
}
pyarrow.parquet.write_table(pa.table(rows), folder / "part.parquet", compression="zstd")
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField, TimestamptzType
bound = GreaterThanOrEqual("order_time", "2026-11-16T00:00:00+00:00").bind(
    Schema(NestedField(1, "order_time", TimestamptzType(), required=True)))
week = pyarrow.dataset.dataset(folder / "part.parquet").to_table(filter=expression_to_pyarrow(bound))
lines, dropped = drop_duplicate_lines(week.cast(week.schema))
assert dropped == 1 and lines.num_rows == 3, (dropped, lines.num_rows)
listing, order = compute_listing(specs["order_lines"], lines)
written = write_csv(listing, folder / "order_lines.csv", order)
behavior = compute_aggregate(specs["customer_behavior"], lines)
assert behavior.to_pylist()[0]["repeat_customers"] == 1 and written.rows == 3
class Context:
    function_name = "smoke"; memory_limit_in_mb = 128; aws_request_id = "smoke"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:smoke"
try:
    h.handler({"week": "2026-W47"}, Context())
except Exception as exc:
    assert "CATALOG_TYPE is not set" in str(exc), exc
else:
    raise SystemExit("the handler ran without settings")
# The analysts' e-mail: templates found and rendered, links signed with RSA (cryptography's native code).
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from exporter.links import LinkSigner
from exporter.notice.render import NoticeContext, render_notice
from exporter.week_summary import WeekFigures
pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
expires = datetime.datetime(2030, 1, 1, tzinfo=utc)
url = LinkSigner("KSMOKE", pem).sign("https://d1.cloudfront.net/x.csv", expires)
assert "Signature=" in url and url.endswith("Key-Pair-Id=KSMOKE"), url
rendered = render_notice(WeekFigures("2026-W47", 2, 3), None, "2026-W46",
                         NoticeContext("smoke", "UTC", ("a", "b"), 0, {}, {}, []))
assert "Weekly sales 2026-W47" in rendered.html and "Weekly sales 2026-W47" in rendered.text
print(json.dumps({"pyarrow": pa.__version__, "python": sys.version.split()[0]}))
"""


# The monitor ships its own boto3/botocore (pinned, like the exporter's) and Powertools' Logger and Metrics.
MONITOR_SMOKE = r"""
import datetime, json, sys
tree = sys.argv[1]
import monitor.handler as h
import boto3, botocore, urllib3, aws_lambda_powertools
for module in (h, boto3, botocore, urllib3, aws_lambda_powertools):
    assert module.__file__.startswith(tree), f"{module.__name__} imported from {module.__file__}"
for service in ("secretsmanager", "cloudwatch"):
    boto3.client(service, region_name="eu-central-1")
from monitor.checks import Observation, Unavailable, evaluate
from monitor.emit import metrics_document
from monitor.observe import Run
from monitor.settings import Thresholds
gone = Unavailable("smoke")
at = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=datetime.timezone.utc)
observation = Observation(at, "s", "raw", "clean", None, gone, gone, gone, gone, gone, gone)
run = Run(observation, evaluate(observation, Thresholds(10, 10, 30, 60, 30)), {})
document = metrics_document("smoke", run)
assert document["StatementNotRunning"] == [1.0] and document["ChecksUnavailable"] == [3.0], document
class Context:
    function_name = "smoke"; memory_limit_in_mb = 128; aws_request_id = "smoke"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:smoke"
try:
    h.handler({}, Context())
except Exception as exc:
    assert "SALESFLOW_ENV is not set" in str(exc), exc
else:
    raise SystemExit("the handler ran without settings")
for forbidden in ("salesflow", "exporter", "pyarrow", "pyiceberg", "requests"):
    assert forbidden not in sys.modules, forbidden
print(json.dumps({"python": sys.version.split()[0], "boto3": boto3.__version__}))
"""

UNUSED_POWERTOOLS_UTILITIES = (
    "auth_alpha", "batch", "circuit_breaker", "data_classes", "data_masking", "feature_flags", "idempotency",
    "kafka", "parameters", "parser", "streaming", "validation",
)  # fmt: skip

EXPORTER = Deployable(
    name="exporter",
    group="exporter",
    drop_packages=frozenset(DROP_PACKAGES),
    botocore_services=frozenset(BOTOCORE_SERVICES),
    trim=TRIM,
    # What the Lambda loads from exporter/: code, the report definitions, the e-mail's templates.
    files=("*.py", "reports.yaml", "notice/*.py", "notice/templates/*.j2"),
    smoke=SMOKE,
    budget=BUDGET_UNZIPPED,
)
MONITOR = Deployable(
    name="monitor",
    group="monitor",
    drop_packages=frozenset(),
    # The monitor's own calls (Secrets Manager, CloudWatch) and boto3's credential chain.
    botocore_services=frozenset({"secretsmanager", "cloudwatch", "sts", "sso", "sso-oidc"}),
    # Powertools beyond Logger and Metrics (and what they import: jmespath_utils, typing) is never loaded.
    trim=(
        *(pattern for pattern in TRIM if not pattern.startswith(("pyarrow/", "pyiceberg/", "zstandard/"))),
        *(f"aws_lambda_powertools/utilities/{utility}/*" for utility in UNUSED_POWERTOOLS_UTILITIES),
    ),
    files=("*.py",),
    smoke=MONITOR_SMOKE,
    budget=MONITOR_BUDGET_UNZIPPED,
)
DEPLOYABLES = {deployable.name: deployable for deployable in (EXPORTER, MONITOR)}


def has_native_code(path: Path) -> bool:
    """Does the zip hold shared objects (so that only a twin of the host's architecture can import it)?"""
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith(".so") or ".so." in name.rsplit("/", 1)[-1] for name in archive.namelist())


def elf_machines(tree: Path) -> dict[str, int]:
    found = {}
    for path in tree.rglob("*"):
        if path.is_file() and (path.suffix == ".so" or ".so." in path.name):
            header = path.read_bytes()[:20]
            if header[:4] == b"\x7fELF":
                found[path.relative_to(tree).as_posix()] = int.from_bytes(header[18:20], "little")
    return found


def smoke_test(artifact: Artifact, python: str, twin: Artifact | None = None) -> str:
    """Import-test the artifact (or its host-architecture twin) with python3.12 from the unzipped tree. A zip
    without native code imports on any architecture: it is tested itself."""
    host = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    portable = artifact.architecture == host or not has_native_code(artifact.path)
    runnable = artifact if portable else twin
    if runnable is None or (runnable is not artifact and runnable.architecture != host):
        raise PackageError(f"a {artifact.architecture} zip cannot be imported on {host}: build a {host} twin")
    smoke = DEPLOYABLES[artifact.deployable].smoke
    with tempfile.TemporaryDirectory(prefix=f"{artifact.deployable}-smoke-") as scratch:
        trees = {}
        for item in {artifact.architecture: artifact, runnable.architecture: runnable}.values():
            tree = Path(scratch) / item.architecture
            with zipfile.ZipFile(item.path) as archive:
                archive.extractall(tree)
            trees[item.architecture] = tree
        if runnable is not artifact:
            target_tree, twin_tree = trees[artifact.architecture], trees[runnable.architecture]
            wrong = {name: machine for name, machine in elf_machines(target_tree).items()
                     if machine != ELF_MACHINE[artifact.architecture]}  # fmt: skip
            if wrong:
                raise PackageError(
                    f"{artifact.path.name} holds native code of another architecture: {sorted(wrong)[:5]}"
                )
            python_files = {
                tree: {p.relative_to(tree).as_posix() for p in tree.rglob("*.py")} for tree in trees.values()
            }
            if python_files[target_tree] != python_files[twin_tree]:
                difference = sorted(python_files[target_tree] ^ python_files[twin_tree])[:10]
                raise PackageError(
                    f"the {artifact.architecture} and {host} trees differ in Python files: {difference}"
                )
        tree = trees[runnable.architecture]
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(tree),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": "eu-central-1",
            "POWERTOOLS_SERVICE_NAME": "smoke",
        }
        done = subprocess.run(
            [python, "-s", "-c", smoke, str(tree)],
            capture_output=True, text=True, env=environment, cwd=scratch, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise PackageError(f"smoke test of {runnable.path.name} failed:\n{done.stderr.strip()[-3000:]}")
        return done.stdout.strip().splitlines()[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m exporter.package", description=__doc__.split("\n")[0])
    parser.add_argument("--arch", choices=sorted(PLATFORMS), required=True, help="Lambda architecture")
    parser.add_argument("--deployable", choices=sorted(DEPLOYABLES), default="exporter", help="which zip")
    parser.add_argument("--out", type=Path, help="output folder (default: build/<deployable>)")
    parser.add_argument("--no-smoke", action="store_true", help="skip the import smoke test")
    args = parser.parse_args(argv)
    deployable = DEPLOYABLES[args.deployable]
    out = args.out or deployable.build_dir
    try:
        python = find_python312()
        artifact = build(args.arch, out, python, deployable=deployable)
        mib = 2**20
        size = (
            f"{artifact.unzipped_bytes / mib:.1f} MiB unzipped, {artifact.zipped_bytes / mib:.1f} MiB zipped"
        )
        budget = f"{deployable.budget / mib:.0f} MiB"
        print(artifact.path)
        print(f"  sha256 {artifact.sha256}\n  {size} (budget {budget} unzipped)")
        if artifact.unzipped_bytes > deployable.budget:
            raise PackageError(f"{artifact.path.name} is {size}: over the {budget} budget")
        if not args.no_smoke:
            host = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
            twin = None
            if host != args.arch and has_native_code(artifact.path):
                twin = build(host, out / "smoke-twin", python, deployable=deployable)
                print(f"  built the {host} twin for the import test ({twin.sha256[:12]})")
            print(f"  smoke test passed: {smoke_test(artifact, python, twin)}")
    except PackageError as exc:
        print(f"package failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
