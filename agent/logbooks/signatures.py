"""Drawn signatures of visitors (A4.2.2 "paraaf / handtekening"): checked PNGs in the ``files`` table.

The kiosk sends what the visitor drew on a canvas as a PNG data URL. It is
checked here by its bytes (a PNG that Pillow reads, small, of sane size, with
ink on it), kept append-only in ``files``, and the visitors entry's
``signature`` field refers to it as ``file:<id>;sha256:<hex>``. The digest in
the entry puts the image under the logbook's hash chain: an image swapped in
the database no longer matches its entry. The audit pack carries the images
(``signatures/<file id>.png``) so an auditor sees them and can check the
digest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from datetime import datetime

from agent.logbooks.entries import list_entries
from agent.store import FileError, Store, check_upload, get_file, store_file
from rules.errors import IkbError
from rules.texts import N_

DATA_URL_PREFIX = "data:image/png;base64,"
# A signature drawn on a tablet is 5–40 KB as PNG; 200 KB leaves room and refuses anything else.
MAX_BYTES = 200_000
MAX_WIDTH, MAX_HEIGHT = 2400, 1200
MIN_INK_PX = 12  # strokes spanning less than this (a tap, a dot) are not a signature
REFERENCE = re.compile(r"^file:(\d+);sha256:([0-9a-f]{64})$")


class SignatureError(IkbError):
    """The drawn signature was refused; the code says why (the kiosk tells the visitor in his language)."""

    messages = {
        "empty": N_("geen handtekening gezet"),
        "too_large": N_("de handtekening is te groot (hoogstens {kb} kB)"),
        "not_png": N_("de handtekening is geen PNG-afbeelding"),
        "unreadable": N_("de handtekening is geen geldige afbeelding"),
        "size": N_("de handtekening heeft een onverwachte afmeting ({width}×{height})"),
        "blank": N_("er staat geen handtekening op"),
    }


def decode(data_url: str) -> bytes:
    """Return the PNG bytes of a canvas data URL, or raise SignatureError saying why not."""
    text = (data_url or "").strip()
    if not text:
        raise SignatureError("signature", "empty")
    if len(text) > len(DATA_URL_PREFIX) + (MAX_BYTES * 4) // 3 + 4:
        raise SignatureError("signature", "too_large", {"kb": MAX_BYTES // 1000})
    if not text.startswith(DATA_URL_PREFIX):
        raise SignatureError("signature", "not_png")
    try:
        return base64.b64decode(text[len(DATA_URL_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError("signature", "unreadable") from None


def check(png: bytes) -> None:
    """Raise SignatureError unless the bytes are a readable PNG of sane size with a drawn stroke on it."""
    from PIL import Image, ImageChops

    try:
        check_upload("handtekening.png", png, allowed=("image/png",), max_bytes=MAX_BYTES)
    except FileError as exc:
        if exc.code == "too_large":
            raise SignatureError("signature", "too_large", {"kb": MAX_BYTES // 1000}) from None
        raise SignatureError("signature", "unreadable") from None
    with Image.open(io.BytesIO(png)) as img:
        if img.width > MAX_WIDTH or img.height > MAX_HEIGHT or img.width < 50 or img.height < 20:
            raise SignatureError("signature", "size", {"width": img.width, "height": img.height})
        rgba = img.convert("RGBA")
    # Ink: pixels that are both visible (alpha) and dark; a blank canvas has none.
    dark = rgba.convert("L").point(lambda v: 255 if v < 160 else 0)
    visible = rgba.getchannel("A").point(lambda v: 255 if v > 64 else 0)
    box = ImageChops.multiply(dark, visible).getbbox()
    if box is None or max(box[2] - box[0], box[3] - box[1]) < MIN_INK_PX:
        raise SignatureError("signature", "blank")


def reference(file_id: int, png: bytes) -> str:
    """Return what the visitors entry stores: the file and the digest of its bytes."""
    return f"file:{file_id};sha256:{hashlib.sha256(png).hexdigest()}"


def parse_reference(value) -> tuple[int, str] | None:
    """Return (file id, sha256) of a signature reference, or None for anything else (typed initials)."""
    match = REFERENCE.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), match.group(2)) if match else None


def store_signature(store: Store, png: bytes, *, by: str, now: datetime) -> str:
    """Check and durably store a signature PNG; return the reference for the entry."""
    check(png)
    with store.transaction() as db:
        file_id = store_file(db, name="handtekening.png", content_type="image/png", data=png, uploaded_by=by,
                             now=now)
    return reference(file_id, png)


def signature_png(store: Store, value) -> bytes | None:
    """Return the stored PNG a reference names when its bytes still match the digest, else None."""
    ref = parse_reference(value)
    if ref is None:
        return None
    row = get_file(store, ref[0])
    if row is None or hashlib.sha256(row["data"]).hexdigest() != ref[1]:
        return None
    return row["data"]


def pack_section(ctx) -> dict[str, bytes]:
    """Audit pack section: the drawn signatures of the visitors in the period (``signatures/<file id>.png``)."""
    if "visitors" not in ctx.kinds:
        return {}
    files = {}
    for row in list_entries(ctx.store, "visitors", start=ctx.start, end=ctx.end):
        png = signature_png(ctx.store, row.entry.get("signature"))
        if png is not None:
            files[f"signatures/{parse_reference(row.entry['signature'])[0]}.png"] = png
    return files
