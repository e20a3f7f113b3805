"""The analysts' e-mail under test: an export in ``NOTIFY=email`` mode against moto (S3, SES, Secrets
Manager), a throw-away RSA signing key, and how a CloudFront edge checks a canned-policy signature."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from exporter_testkit import Target

from exporter.export import Clients, ExportResult
from salesflow.twin.local_aws import LocalAws, SentEmail

SENDER_DOMAIN = "sales.example.com"
SENDER = f"salesflow-exports@{SENDER_DOMAIN}"
RECIPIENTS = ("analyst.one@example.com", "analyst.two@example.com")
BASE_URL = "https://d1a2b3c4example.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"
CONFIGURATION_SET = "salesflow-test-exports"


def new_signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def email_environment(secret_id: str, days: int = 7) -> dict[str, str]:
    return {
        "NOTIFY": "email",
        "EMAIL_FROM": SENDER,
        "EMAIL_TO": ",".join(RECIPIENTS),
        "EMAIL_CONFIGURATION_SET": CONFIGURATION_SET,
        "DOWNLOAD_BASE_URL": BASE_URL,
        "DOWNLOAD_KEY_PAIR_ID": KEY_PAIR_ID,
        "DOWNLOAD_SIGNING_KEY_SECRET_ID": secret_id,
        "DOWNLOAD_LINK_DAYS": str(days),
    }


@dataclass
class EmailRun:
    """One target exporting weeks in e-mail mode; every SendRawEmail call's parameters are recorded."""

    aws: LocalAws
    target: Target
    key: rsa.RSAPrivateKey
    secret_id: str
    calls: list[dict] = field(default_factory=list)

    def clients(self) -> Clients:
        ses = self.aws.client("ses")
        ses.meta.events.register(
            "provide-client-params.ses.SendRawEmail", lambda params, **_: self.calls.append(dict(params))
        )
        return Clients(s3=self.aws.client("s3"), sns=self.aws.client("sns"), ses=ses)

    def export(self, week: str, **env: str) -> tuple[ExportResult, SentEmail]:
        before = len(self.aws.sent_emails())
        result = self.target.export(
            week, clients=self.clients(), env={**email_environment(self.secret_id), **env}
        )
        sent = self.aws.sent_emails()
        assert len(sent) == before + 1, "one e-mail per export"
        return result, sent[-1]


def canned_policy(url: str, expires: int) -> bytes:
    """The policy CloudFront reconstructs from a canned-policy URL (compact JSON, as signed)."""
    policy = {"Statement": [{"Resource": url, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]}
    return json.dumps(policy, separators=(",", ":")).encode()


def verify_signed_url(url: str, public_key: rsa.RSAPublicKey) -> tuple[str, int, str]:
    """Check a signed URL as CloudFront does; returns (unsigned URL, Expires, Key-Pair-Id). Raises
    ``cryptography.exceptions.InvalidSignature`` when the signature does not match."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=True)
    assert [name for name, _ in query] == ["Expires", "Signature", "Key-Pair-Id"], query
    values = dict(query)
    unsigned = f"{parts.scheme}://{parts.netloc}{parts.path}"
    signature = base64.b64decode(values["Signature"].translate(str.maketrans("-_~", "+=/")))
    public_key.verify(
        signature,
        canned_policy(unsigned, int(values["Expires"])),
        padding.PKCS1v15(),
        hashes.SHA1(),  # noqa: S303 - CloudFront
    )
    return unsigned, int(values["Expires"]), values["Key-Pair-Id"]


# --- a real spreadsheet program: LibreOffice Calc, headless ---------------------------------------------
LIBREOFFICE_INSTALL = "apt-get install -y --no-install-recommends libreoffice-calc-nogui"
# Comma, double quote, UTF-8 (76), from line 1: the CSV import options of a UTF-8 file.
UTF8_CSV_IMPORT = "CSV:44,34,76,1"


def convert_to_xlsx(csv_files: list[Path], out_dir: Path, profile: Path) -> dict[str, Path]:
    """One LibreOffice run converts every CSV to xlsx (start-up is the slow part); name -> xlsx path."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise AssertionError(f"LibreOffice is not installed: {LIBREOFFICE_INSTALL} (.ci/run does it)")
    done = subprocess.run(
        [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
         f"--infilter={UTF8_CSV_IMPORT}", "--convert-to", "xlsx", "--outdir", str(out_dir),
         *map(str, csv_files)],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
    )  # fmt: skip
    converted = {path.stem: out_dir / f"{path.stem}.xlsx" for path in csv_files}
    missing = [name for name, path in converted.items() if not path.is_file()]
    assert not missing and done.returncode == 0, f"LibreOffice did not convert {missing}: {done.stderr}"
    return converted


def xlsx_rows(path: Path) -> list[list[object]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    return [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
