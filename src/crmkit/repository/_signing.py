"""Signed pagination cursors: an application's own key proves a cursor is one it issued."""

from __future__ import annotations

import base64
import hashlib
import hmac

from crmkit.entities._rules import describe
from crmkit.errors import ValidationError

__all__ = ["CursorSigner"]

_TAG_BYTES = 16  # HMAC-SHA256 truncated to 128 bits (RFC 2104 section 5 allows it)


class CursorSigner:
    """Sign the cursors a repository returns before they leave the application; check them on return.

    A cursor is readable JSON (the sort values of the last row of a page).
    Every repository already refuses a cursor that does not decode or does
    not fit its query's fields; signing also refuses one a client edited
    (to skip ahead, or to probe values of rows it cannot see) with the same
    :class:`~crmkit.errors.ValidationError`. HMAC-SHA256 with the
    application's key, compared in constant time (:func:`hmac.compare_digest`).

    >>> signer = CursorSigner(b"a secret of at least sixteen bytes")
    >>> token = signer.sign("eyJ0IjoiQ29udGFjdCJ9")
    >>> signer.verify(token)
    'eyJ0IjoiQ29udGFjdCJ9'
    >>> signer.verify(token[:-1] + ("A" if token[-1] != "A" else "B"))
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: cursor: not a cursor this application issued
    """

    def __init__(self, key: bytes) -> None:
        if type(key) is not bytes or len(key) < 16:
            raise ValidationError([("key", f"must be at least 16 bytes, got {describe(key)}")])
        self._key = key

    def __repr__(self) -> str:
        return "CursorSigner(key=<hidden>)"

    def _tag(self, cursor: str) -> str:
        mac = hmac.new(self._key, cursor.encode("utf-8", "surrogatepass"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()[:_TAG_BYTES]).decode().rstrip("=")

    def sign(self, cursor: str | None) -> str | None:
        """``cursor`` with its tag appended (``None`` stays ``None``: the last page)."""
        if cursor is None:
            return None
        if type(cursor) is not str:
            raise ValidationError([("cursor", f"must be a string, got {describe(cursor)}")])
        return f"{cursor}.{self._tag(cursor)}"

    def verify(self, token: str) -> str:
        """The cursor inside ``token``; :class:`ValidationError` unless this key signed it."""
        if type(token) is not str:
            raise ValidationError([("cursor", f"must be a string, got {describe(token)}")])
        cursor, _, tag = token.rpartition(".")
        if not cursor or not hmac.compare_digest(tag.encode(), self._tag(cursor).encode()):
            raise ValidationError([("cursor", "not a cursor this application issued")])
        return cursor
