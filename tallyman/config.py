"""The one configuration loader: TOML files and environment variables into frozen dataclasses.

Why one loader that refuses unknown keys: a misspelt key (`polcy =` for `policy =`,
`http_prot` for `http_port`) used to be ignored without a word and the program ran on a default
the user did not choose. Every part of Tallyman (up, central, edge, planning, the simulator)
declares its settings as a dataclass and reads them through `build`/`load`, so a typo anywhere is
refused with the key and the file named, and the valid keys listed.

Environment variables override a file: `TALLYMAN_UP_HTTP=0.0.0.0:9000` sets `http` of the `[up]`
settings when `load(..., env_prefix="TALLYMAN_UP_")` is asked for them. Their values are read as
TOML values when they parse as one (`8`, `true`, `"x"`, `[1, 2]`) and as plain strings otherwise.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A setting that cannot be used; the message names the file, the key and what is allowed."""


def read_toml(path: str | Path) -> dict[str, Any]:
    """A TOML file as a dict; a missing file or a syntax error is a ConfigError naming the file."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def check_keys(data: Mapping[str, Any], known: set[str] | frozenset[str], where: str) -> None:
    """Refuse keys that are not in `known`, naming each and listing the valid ones."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        listed = ", ".join(repr(k) for k in unknown)
        raise ConfigError(
            f"{where}: unknown key{'s' if len(unknown) > 1 else ''} {listed} "
            f"(valid: {', '.join(sorted(known))})"
        )


def field_names(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls))


def build(cls: type[T], data: Mapping[str, Any], where: str) -> T:
    """An instance of dataclass `cls` from `data`: unknown keys refused, nested dataclasses
    (and lists or tuples of them) built recursively, scalar types checked."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(data).__name__}")
    check_keys(data, field_names(cls), where)
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _convert(hints[name], value, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{where}: {e}") from None


def load(
    cls: type[T],
    path: str | Path | None = None,
    *,
    section: str | None = None,
    env_prefix: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> T:
    """Settings of type `cls`: the dataclass defaults, then the file's `[section]` table (the
    whole file if no section), then environment variables starting with `env_prefix`.

    A file that has other top-level tables is fine when a section is named (one file may hold
    several parts' settings); a section that is not a table, or an unknown key inside it, is not.
    """
    data: dict[str, Any] = {}
    where = "settings"
    if path is not None:
        raw = read_toml(path)
        where = f"{path}"
        if section is not None:
            raw = raw.get(section, {})
            where = f"{path} [{section}]"
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{where}: expected a table, got {raw!r}")
        data.update(raw)
    from_env: dict[str, str] = {}
    if env_prefix:
        env = os.environ if environ is None else environ
        names = field_names(cls)
        hints = typing.get_type_hints(cls)
        for key, text in env.items():
            if not key.startswith(env_prefix):
                continue
            name = key[len(env_prefix) :].lower()
            if name not in names:
                raise ConfigError(
                    f"environment variable {key}: unknown setting {name!r} "
                    f"(valid: {', '.join(sorted(names))})"
                )
            data[name] = text if _wants_text(hints[name]) else env_value(text)
            from_env[name] = key
    try:
        return build(cls, data, where)
    except ConfigError as e:
        # name the variable, not the settings path, when the bad value came from one
        for name, key in from_env.items():
            if str(e).startswith(f"{where}.{name}:"):
                raise ConfigError(
                    f"environment variable {key}{str(e)[len(where) + len(name) + 1 :]}"
                ) from None
        raise


def _wants_text(hint: Any) -> bool:
    """A field that takes a string (maybe optional): its environment value is taken as written,
    so `TALLYMAN_CENTRAL_DB=2024` is a file named 2024, not a number."""
    args = (
        typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else ()
    )
    return hint is str or (str in args and all(a in (str, type(None)) for a in args))


def env_value(text: str) -> Any:
    """An environment value as TOML when it parses as one, else the plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, where)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return build(hint, value, where)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item = args[0] if args else Any
        items = [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin in (dict, Mapping) or hint in (dict, Any):
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value
