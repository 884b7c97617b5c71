"""Error paths: where in a record or an argument a problem lies (``lines[2].quantity``)."""

from __future__ import annotations

__all__ = ["join_path", "key_path"]


def join_path(prefix: str, path: str) -> str:
    """Join two error paths: ``join_path("lines[2]", "quantity") == "lines[2].quantity"``."""
    if not prefix or prefix == "$":
        return path
    if not path or path == "$":
        return prefix
    if path.startswith("["):
        return prefix + path
    return f"{prefix}.{path}"


def key_path(prefix: str, key: object) -> str:
    """Path of ``key`` inside an object at ``prefix``; odd keys are quoted: ``attributes['a b']``."""
    text = str(key)
    if text.isidentifier():
        return join_path(prefix, text)
    return f"{'' if prefix in ('', '$') else prefix}[{text!r}]"
