"""The server's VAPID key pair (RFC 8292), kept in the data folder across restarts.

Browsers bind each subscription to the `applicationServerKey` given to `pushManager.subscribe()`; pushes signed
with any other key are refused (401/403). So the key must survive restarts: losing it silently orphans every
stored subscription.
"""

from __future__ import annotations

import base64
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webpush.vapid import VAPID

PRIVATE_KEY_FILE: Final = "vapid_private_key.pem"


def b64url(data: bytes) -> str:
    """Base64url without padding, as Web Push and JWS write keys and signatures."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class VapidKeys:
    """The server's VAPID identity: where the private key is, and the public key browsers subscribe with."""

    private_pem_path: Path
    public_key_b64url: str  # uncompressed P-256 point, base64url without padding (applicationServerKey)


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"{path} does not hold a P-256 private key (VAPID needs ES256)")
    return key


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    """The public half as browsers want it: the uncompressed point, base64url."""
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(point)


def load_or_create_vapid_keys(data_dir: Path) -> VapidKeys:
    """Return the VAPID key pair kept in `data_dir`, generating it on first run.

    The private key is written with mode 0600 to a temporary file and then hard-linked into
    place: the link either creates the final name or fails because it exists, so a reader never
    sees a half-written key, and two processes starting together agree on a single key (the loser
    of the race reads the winner's). A key file that exists but cannot be read is an error, never
    a reason to generate a new key, which would orphan every subscription.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PRIVATE_KEY_FILE
    if not path.exists():
        private_pem, _public_pem, _server_key = VAPID.generate_keys()
        _create_exclusively(path, bytes(private_pem))
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # tighten a key that was copied in with loose permissions
    return VapidKeys(private_pem_path=path, public_key_b64url=application_server_key(load_private_key(path)))


def _create_exclusively(path: Path, content: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won the race: use its key
        except OSError:
            # Filesystems without hard links: rename is still atomic, but last writer wins.
            if not path.exists():
                os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
