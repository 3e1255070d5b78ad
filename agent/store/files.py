"""Uploaded files (photos with an answer, scans of documents): checked by content, kept append-only.

A file's type is decided by its bytes, never by its name or the browser's
claim: JPEG, PNG and WebP photos (which Pillow must be able to read) and PDF
documents. SVG and HTML are refused: served back, they could run script.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime

from agent.clock import keep_until
from agent.store.connection import Store
from rules.errors import IkbError
from rules.texts import N_

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
DOCUMENT_TYPES = IMAGE_TYPES + ("application/pdf",)


class FileError(IkbError):
    """The upload was refused; the code says why (the form shows it at the upload field)."""

    messages = {
        "empty": N_("het bestand is leeg"),
        "too_large": N_("het bestand is te groot (hoogstens {mb} MB)"),
        "type": N_("dit bestandstype kan niet; toegestaan: {allowed}"),
        "unreadable": N_("het bestand is geen leesbare foto"),
    }


def sniff(data: bytes) -> str | None:
    """Return the content type the bytes show, or None when not an accepted kind."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _readable_image(data: bytes) -> bool:
    """Return whether Pillow can parse the image (a renamed or truncated file cannot)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        return True
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False


def check_upload(name: str, data: bytes, *, allowed: tuple[str, ...], max_bytes: int) -> str:
    """Return the content type of an acceptable upload, or raise FileError saying why not."""
    if not data:
        raise FileError("", "empty")
    if len(data) > max_bytes:
        raise FileError("", "too_large", {"mb": max_bytes // (1024 * 1024)})
    kind = sniff(data)
    if kind not in allowed:
        names = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "application/pdf": "PDF"}
        raise FileError("", "type", {"allowed": [names[t] for t in allowed]})
    if kind.startswith("image/") and not _readable_image(data):
        raise FileError("", "unreadable")
    return kind


def clean_name(name: str) -> str:
    """Return a safe display name: no directories, no control characters, at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip() or "bestand"
    return base[:120]


def store_file(db, *, name: str, content_type: str, data: bytes, uploaded_by: str, now: datetime) -> int:
    """Insert a checked file inside the caller's transaction; return its id."""
    cur = db.execute(
        "INSERT INTO files(name, content_type, size, sha256, data, uploaded_at, uploaded_by, keep_until)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [clean_name(name), content_type, len(data), hashlib.sha256(data).hexdigest(), data,
         now.isoformat(), uploaded_by, keep_until(now)])
    return cur.lastrowid


def get_file(store: Store, file_id: int) -> dict | None:
    """Return a stored file with its bytes, or None."""
    rows = store.query("SELECT * FROM files WHERE id = ?", [file_id])
    return rows[0] if rows else None


def verify_files(store: Store) -> tuple[str | None, int]:
    """Check every stored file against its SHA-256; return the first mismatch (None when all match) and the count."""
    n = 0
    with store.lock:
        for file_id, digest, data in store.conn.execute("SELECT id, sha256, data FROM files ORDER BY id"):
            n += 1
            if hashlib.sha256(data or b"").hexdigest() != digest:
                return f"file #{file_id}: content does not match its SHA-256", n
    return None, n
