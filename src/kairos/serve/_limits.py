"""The limits that keep ``kairos serve`` safe to run on a shared host (every process on it can
reach the port), and the helpers that enforce them. Pure apart from reading files.

=========================  ================  ===============================================
limit                      default           past it
=========================  ================  ===============================================
request body               16 MiB            HTTP 413 in the provider's own error shape
request headers            10 s to arrive    the connection is closed
script file                4 MiB             the script is refused (one line, exit 2)
YAML alias expansion       32 Mi values      the script is refused (an "alias bomb")
recorded body (each)       64 MiB            the script is refused
recorded paths             inside the        absolute paths, ``..`` and symlinks leading
                           script's folder   out of it are refused
                           or ``--recorded``
=========================  ================  ===============================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = [
    "HEADER_TIMEOUT",
    "MAX_EXPANDED",
    "MAX_RECORDED_BYTES",
    "MAX_REQUEST_BYTES",
    "MAX_SCRIPT_BYTES",
    "check_expansion",
    "inside",
    "read_bounded",
]

MAX_REQUEST_BYTES = 16 * 2**20
HEADER_TIMEOUT = 10.0
MAX_SCRIPT_BYTES = 4 * 2**20
MAX_EXPANDED = 32 * 2**20
MAX_RECORDED_BYTES = 64 * 2**20
_MAX_DEPTH = 200


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB"


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path`` if it holds at most ``limit`` (``/dev/zero`` does not)."""
    try:
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {str(path)!r} ({exc.strerror})") from None
    if len(data) > limit:
        raise ConfigurationError(f"{what} {str(path)!r} is larger than {_mib(limit)}")
    return data


def inside(base: Path, name: str, where: str) -> Path:
    """``name`` resolved under ``base``; absolute paths, ``..`` and symlinks that lead out of
    ``base`` are refused (a script must not serve arbitrary files to whoever connects)."""
    if Path(name).is_absolute():
        raise ConfigurationError(
            f"{where}: recorded path {name!r} is absolute; use a path inside {str(base)!r}"
        )
    root = base.resolve()
    target = (base / name).resolve()
    if not target.is_relative_to(root):
        raise ConfigurationError(
            f"{where}: recorded path {name!r} leads outside {str(root)!r} (.. or a symlink)"
        )
    return target


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return list(value)


def check_expansion(data: Any, source: str, limit: int = MAX_EXPANDED) -> None:
    """Refuse a parsed script that expands to more than ``limit`` values (each string counts
    its length): YAML aliases share one object, so a small file can stand for billions of
    values once rendered. Linear in the distinct objects; recursive aliases are refused."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any, depth: int) -> int:
        if isinstance(value, str):
            return 1 + len(value)
        if not isinstance(value, dict | list):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise ConfigurationError(f"{source}: a YAML alias refers to itself")
        if depth > _MAX_DEPTH:
            raise ConfigurationError(f"{source}: nested more than {_MAX_DEPTH} levels deep")
        active.add(key)
        total = 1
        for child in _children(value):
            total += size(child, depth + 1)
            if total > limit:
                raise ConfigurationError(
                    f"{source}: expands to more than {limit:,} values (YAML aliases?)"
                )
        active.discard(key)
        sizes[key] = total
        return total

    size(data, 0)
