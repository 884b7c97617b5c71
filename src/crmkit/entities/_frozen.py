"""Deeply immutable JSON values for the ``attributes`` custom-field mapping."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NoReturn, TypeAlias, Union

from crmkit._paths import key_path
from crmkit._text import shown
from crmkit.entities._rules import storable as _storable
from crmkit.errors import ValidationError

__all__ = ["FrozenDict", "JsonValue", "freeze_json", "thaw_json"]

#: A JSON value as crmkit stores it: objects become :class:`FrozenDict`, arrays tuples.
JsonValue: TypeAlias = Union[bool, int, float, str, "tuple[JsonValue, ...]", "FrozenDict", None]

#: Nesting deeper than this is refused (a guard against hostile input, not a JSON rule).
MAX_DEPTH = 32


class FrozenDict(dict[str, Any]):
    """A ``dict`` that refuses every change after it is built; hashable.

    It stays a real ``dict`` so ``json.dumps`` and ``==`` against plain
    dicts work as usual.

    >>> d = FrozenDict({"tier": "gold"})
    >>> d["tier"]
    'gold'
    >>> d == {"tier": "gold"}
    True
    >>> d["tier"] = "silver"
    Traceback (most recent call last):
    ...
    TypeError: FrozenDict is immutable
    """

    __slots__ = ("_hash", "flat")

    _hash: int
    flat: bool  #: True when no value is a container (set by :func:`freeze_json`)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().__init__(*args, **kwargs)
        except (TypeError, ValueError):
            from crmkit._text import describe
            from crmkit.errors import ValidationError

            shown = describe(args[0]) if args else "keywords"
            raise ValidationError(
                [("$", f"must be a mapping or (key, value) pairs, got {shown}")]
            ) from None
        object.__setattr__(self, "flat", not any(isinstance(v, _CONTAINERS) for v in self.values()))

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("FrozenDict is immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse
    __ior__ = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            h = hash(frozenset(self.items()))
            object.__setattr__(self, "_hash", h)
            return h

    def __setattr__(self, name: str, value: Any) -> None:
        raise TypeError("FrozenDict is immutable")

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


_CONTAINERS = (dict, tuple, list)
_SCALARS = frozenset({str, int, bool, type(None)})


def _frozen(items: dict[str, Any], flat: bool) -> FrozenDict:
    fd = FrozenDict.__new__(FrozenDict)
    dict.update(fd, items)
    object.__setattr__(fd, "flat", flat)
    return fd


EMPTY = FrozenDict()


def _bad(path: str, message: str) -> NoReturn:
    raise ValidationError([(path, message)])


def freeze_json(value: Any, path: str = "attributes", _depth: int = 0) -> Any:
    """Check that ``value`` is JSON data and return a deeply immutable copy.

    Objects must have string keys; numbers must be finite; nesting is
    limited to 32 levels. Raises :class:`~crmkit.errors.ValidationError`
    naming the path of the first offending value.

    >>> freeze_json({"sizes": [1, 2], "vip": True})
    FrozenDict({'sizes': (1, 2), 'vip': True})
    >>> freeze_json({"x": float("nan")})
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: attributes.x: must be a finite number (got nan)
    """
    if type(value) is dict and _depth < MAX_DEPTH:
        # Fast path for the usual flat object of scalars.
        for k, v in value.items():
            if (
                type(k) is not str
                or type(v) not in _SCALARS
                or not _storable(k)
                or (type(v) is str and not _storable(v))
            ):
                break
        else:
            return _frozen(value, True) if value else EMPTY
    if isinstance(value, str):
        if not _storable(value):
            _bad(path, "must be text without NUL or lone surrogates (UTF-8 cannot store them)")
        return value
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            _bad(path, f"must be a finite number (got {shown(value)})")
        return value
    if _depth >= MAX_DEPTH:
        _bad(path, f"nesting deeper than {MAX_DEPTH} levels is not allowed")
    if isinstance(value, Mapping):
        if not value:
            return EMPTY
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                _bad(path, f"keys must be strings (got {type(k).__name__})")
            if not _storable(k):
                _bad(path, "keys must be text without NUL or lone surrogates")
            out[k] = freeze_json(v, key_path(path, k), _depth + 1)
        return _frozen(out, not any(isinstance(v, _CONTAINERS) for v in out.values()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze_json(v, f"{path}[{i}]", _depth + 1) for i, v in enumerate(value))
    _bad(
        path,
        "must be a JSON value (null, bool, number, string, array or object), "
        f"got {type(value).__name__}",
    )


def thaw_json(value: Any) -> Any:
    """Return plain ``dict``/``list`` copies of a frozen JSON value (for output)."""
    if isinstance(value, dict):
        for v in value.values():
            if isinstance(v, _CONTAINERS):
                return {k: thaw_json(v) for k, v in value.items()}
        return dict(value)  # flat: copy in C
    if isinstance(value, (tuple, list)):
        return [thaw_json(v) for v in value]
    return value
