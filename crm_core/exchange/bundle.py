"""The bundle format: a zip of ``manifest.json``, ``rows.jsonl`` and ``signature``.

``manifest.json`` says what the bundle is (format version, the installation and region
it comes from, when it was made, since when its rows changed, how many of each entity,
the SHA-256 of ``rows.jsonl``); ``signature`` is the HMAC-SHA256 of ``manifest.json``
under the shared key, in hex. Reading checks all of it before a row is looked at: an
unsigned, tampered, wrongly keyed or unknown-version bundle is refused whole.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_core.config import Config
from crm_core.errors import TongxinError
from crm_core.i18n import N_

FORMAT = "tongxin-exchange"
FORMAT_VERSION = "1.0"
KEY_ENV = "TONGXIN_EXCHANGE_KEY"
MANIFEST, ROWS, SIGNATURE = "manifest.json", "rows.jsonl", "signature"
MIN_KEY_BYTES = 16
MAX_BUNDLE_BYTES = 1 << 30  # what a bundle may unpack to


class BundleRefused(TongxinError):
    """A bundle that cannot be trusted or read: nothing of it is written."""


@dataclass(frozen=True)
class Bundle:
    """A bundle read and verified: its manifest, its rows, and the SHA-256 of its rows
    (which names the bundle)."""

    manifest: dict[str, Any]
    rows: list[dict[str, Any]]
    digest: str


def signing_key(config: Config) -> bytes:
    """The shared key: ``TONGXIN_EXCHANGE_KEY``, else the file ``[exchange] key_file``.
    BundleRefused when there is none or it is shorter than 16 bytes."""
    text = os.environ.get(KEY_ENV)
    if not text and config.sections.exchange.key_file:
        path = Path(config.sections.exchange.key_file).expanduser()
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise BundleRefused.of(
                N_("cannot read the exchange key file {path}: {error}"),
                path=str(path),
                error=exc.strerror or str(exc),
            ) from None
    key = (text or "").strip().encode("utf-8")
    if not key:
        raise BundleRefused.of(
            N_("no exchange key: set TONGXIN_EXCHANGE_KEY or [exchange] key_file")
        )
    if len(key) < MIN_KEY_BYTES:
        raise BundleRefused.of(N_("the exchange key is shorter than {n} bytes"), n=MIN_KEY_BYTES)
    return key


def canonical(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys, no spaces, Chinese as is)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def sign(key: bytes, data: bytes) -> str:
    """The HMAC-SHA256 of ``data`` under ``key``, in hex."""
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def write_bundle(
    path: Path, key: bytes, manifest: dict[str, Any], rows: list[dict[str, Any]]
) -> str:
    """Write the bundle file; returns the SHA-256 of its rows. ``manifest`` gets the
    format, version and the rows' digest."""
    body = "".join(canonical(r) + "\n" for r in rows).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    full = {**manifest, "format": FORMAT, "version": FORMAT_VERSION, "rows_sha256": digest}
    head = json.dumps(full, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(MANIFEST, head)
        z.writestr(ROWS, body)
        z.writestr(SIGNATURE, sign(key, head))
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
    return digest


def _member(z: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = z.getinfo(name)
    except KeyError:
        if name == SIGNATURE:
            raise BundleRefused.of(N_("the bundle is not signed")) from None
        raise BundleRefused.of(N_("the bundle has no {name}"), name=name) from None
    if info.file_size > MAX_BUNDLE_BYTES:
        raise BundleRefused.of(N_("{name} of the bundle is too large"), name=name)
    return z.read(info)


def read_bundle(path: Path, key: bytes) -> Bundle:
    """The verified bundle at ``path``; BundleRefused when it is not a bundle, is not
    signed, its signature does not match (tampered, or another key), its version is
    unknown or its rows are not the ones the manifest names."""
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise BundleRefused.of(
            N_("{path} is not an exchange bundle ({error})"), path=str(path), error=str(exc)
        ) from None
    with z:
        head, body, signature = (_member(z, n) for n in (MANIFEST, ROWS, SIGNATURE))
    expected = sign(key, head)
    if not hmac.compare_digest(expected, signature.decode("ascii", "replace").strip()):
        raise BundleRefused.of(
            N_("the bundle's signature does not match: it was changed, or signed with another key")
        )
    try:
        manifest = json.loads(head)
    except ValueError:
        raise BundleRefused.of(N_("the bundle's manifest is not JSON")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleRefused.of(N_("{path} is not an exchange bundle"), path=str(path))
    if manifest.get("version") != FORMAT_VERSION:
        raise BundleRefused.of(
            N_("the bundle's format version {version} is not known (this program reads {known})"),
            version=str(manifest.get("version")),
            known=FORMAT_VERSION,
        )
    digest = hashlib.sha256(body).hexdigest()
    if digest != manifest.get("rows_sha256"):
        raise BundleRefused.of(N_("the bundle's rows are not the ones its manifest names"))
    rows = []
    for number, line in enumerate(body.decode("utf-8").splitlines(), 1):
        try:
            row = json.loads(line)
        except ValueError:
            raise BundleRefused.of(N_("line {n} of the rows is not JSON"), n=number) from None
        if not isinstance(row, dict) or not {"entity", "id", "version", "fields"} <= row.keys():
            raise BundleRefused.of(N_("line {n} of the rows is not a row"), n=number)
        rows.append(row)
    return Bundle(manifest, rows, digest)
