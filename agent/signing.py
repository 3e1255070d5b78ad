"""The farm key: an Ed25519 key pair kept in the data directory, never in the database.

It signs every audit pack's manifest and the chain heads the agent publishes upstream
(docs/UPSTREAM.md). The private key is a PKCS#8 PEM file readable by its owner only; the
public key travels with what it signs, with its fingerprint: 16 base32 letters and digits in
four groups (``K7QF-M2XA-…``), short enough to read aloud and printed on the QR poster.
Signing and checking use the ``cryptography`` library; nothing here is hand-written crypto.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

# `cryptography` (about 10 MB resident: its Rust extension and OpenSSL) is imported where a key is used,
# so `run` without upstream and `web` until a pack or the kiosk's poster needs the key do not carry it.
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ALGORITHM = "Ed25519"


class FarmKeyError(Exception):
    """The farm key cannot be read or written; the message names the file and the fix."""


def fingerprint_of(public_raw: bytes) -> str:
    """Return the readable fingerprint of a raw public key: 80 bits of its SHA-256, base32, 4 groups of 4."""
    text = base64.b32encode(hashlib.sha256(public_raw).digest()[:10]).decode("ascii")
    return "-".join(text[i:i + 4] for i in range(0, 16, 4))


@dataclass(frozen=True)
class FarmKey:
    """The farm's signing key with its public half as text."""

    private: Ed25519PrivateKey
    path: Path

    @property
    def public_raw(self) -> bytes:
        """Return the 32 raw bytes of the public key."""
        from cryptography.hazmat.primitives import serialization

        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_key(self) -> str:
        """Return the public key as base64 text (what packs and chain heads carry)."""
        return base64.b64encode(self.public_raw).decode("ascii")

    @property
    def fingerprint(self) -> str:
        """Return the public key's readable fingerprint."""
        return fingerprint_of(self.public_raw)

    def public_info(self) -> dict:
        """Return what a signed document carries about its key."""
        return {"algorithm": ALGORITHM, "public_key": self.public_key, "fingerprint": self.fingerprint}

    def sign(self, data: bytes) -> str:
        """Return the base64 Ed25519 signature of the bytes."""
        return base64.b64encode(self.private.sign(data)).decode("ascii")


def load_key(path: Path) -> FarmKey:
    """Read the farm key; raise FarmKeyError naming the file when absent or unreadable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FarmKeyError(f"{path}: no farm key (create it with: ikb-agent key init)") from None
    except OSError as exc:
        raise FarmKeyError(f"{path}: cannot read the farm key ({exc.strerror})") from None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise FarmKeyError(f"{path}: not a PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise FarmKeyError(f"{path}: not an Ed25519 key")
    return FarmKey(private, path)


def create_key(path: Path) -> FarmKey:
    """Create a new farm key file (mode 0600); refuse to replace an existing one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not each write a key and sign with different ones.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path)
    except OSError as exc:
        raise FarmKeyError(f"{path}: cannot create the farm key ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return FarmKey(private, path)


def farm_key(path: Path, *, create: bool = True) -> FarmKey:
    """Return the farm key at ``path``, creating it first when absent and ``create`` is set."""
    if create and not path.exists():
        return create_key(path)
    return load_key(path)


def check_signature(public_key: str, signature: str, data: bytes) -> str | None:
    """Return None when ``signature`` (base64) is a valid Ed25519 signature of ``data``, else why not."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw = base64.b64decode(public_key, validate=True)
        sig = base64.b64decode(signature.strip(), validate=True)
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, data)
    except (ValueError, TypeError, AttributeError):
        return "public key or signature is not readable"
    except InvalidSignature:
        return "signature does not match"
    return None


def key_fingerprint(public_key: str) -> str | None:
    """Return the fingerprint of a base64 public key, or None when it is not 32 bytes of base64."""
    try:
        raw = base64.b64decode(public_key, validate=True)
    except (ValueError, TypeError):
        return None
    return fingerprint_of(raw) if len(raw) == 32 else None
