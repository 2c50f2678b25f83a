"""The installed ``avara`` SDK's models, read by introspection into the facts drift compares.

The SDK is optional for users, so nothing here imports it at module level: a resolver
imports it when asked. Pydantic answers and TypedDict requests are told apart by shape
(``model_fields``, ``__total__``), so neither pydantic nor typing_extensions is imported.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

SDK = "avara"
Resolver = Callable[[str], Any]


class Unusable(Exception):
    """Drift cannot be checked at all (exit 2), as opposed to drift found (exit 1)."""


class SdkMissing(Unusable):
    """The SDK module cannot be imported: there is nothing to compare with."""


class ModelNotFound(LookupError):
    """A dotted path of ``x-sdk`` names no class of the installed SDK."""


@dataclass(frozen=True)
class SdkField:
    """What the SDK says of one field, under its wire name."""

    wire: str
    required: bool
    nullable: bool
    shown: str
    values: tuple[object, ...] | None = None
    nested: type | None = None
    array: bool = False
    generic: bool = False


@dataclass(frozen=True)
class _Shape:
    nullable: bool = False
    values: tuple[object, ...] | None = None
    nested: type | None = None
    array: bool = False
    generic: bool = False


def sdk_resolver(module: str = SDK) -> Resolver:
    """Look the dotted paths of ``x-sdk`` up in ``module`` (their ``avara.`` read as it)."""
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise SdkMissing(
            f"cannot import the SDK module {module!r} ({exc}); pip install avara"
        ) from exc

    def resolve(path: str) -> Any:
        return _lookup(f"{module}.{path.removeprefix(SDK + '.')}" if module != SDK else path)

    return resolve


def sdk_version(module: str = SDK) -> str:
    """The version the SDK module reports, for the verdict line."""
    return str(getattr(importlib.import_module(module), "__version__", "(version unknown)"))


def viewer_models(module: str = SDK) -> dict[str, type]:
    """Every request and answer class the SDK's ``types.viewer`` packages define, by path."""
    try:
        root = importlib.import_module(f"{module}.types.viewer")
    except ImportError:
        return {}
    return dict(_defined_in(root))


def _defined_in(package: types.ModuleType) -> Iterator[tuple[str, type]]:
    for name, value in sorted(vars(package).items()):
        if name.startswith("_") or not isinstance(value, type):
            continue
        if value.__module__.startswith(package.__name__ + ".") and is_model(value):
            yield f"{package.__name__}.{name}", value
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        if info.ispkg:
            yield from _defined_in(importlib.import_module(f"{package.__name__}.{info.name}"))


def _lookup(path: str) -> Any:
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(target, attribute):
                raise ModelNotFound(f"the SDK has no {path}")
            target = getattr(target, attribute)
        return target
    raise ModelNotFound(f"the SDK has no {path}")


def is_model(cls: object) -> bool:
    """A pydantic model (an answer) or a TypedDict (request parameters)."""
    return _is_pydantic(cls) or _is_typeddict(cls)


def _is_pydantic(cls: object) -> bool:
    return isinstance(cls, type) and isinstance(getattr(cls, "model_fields", None), dict)


def _is_typeddict(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, dict) and hasattr(cls, "__total__")


def sdk_fields(cls: Any) -> dict[str, SdkField] | None:
    """The fields of a model by wire name; None if ``cls`` is neither kind of model."""
    if _is_pydantic(cls):
        fields: dict[str, Any] = cls.model_fields
        return {
            (info.alias or name): _field(info.alias or name, info.annotation, info.is_required())
            for name, info in fields.items()
        }
    if _is_typeddict(cls):
        found = {}
        total = bool(cls.__total__)
        # __required_keys__ is not trusted: with postponed annotations, Python 3.11 misses
        # the SDK's Required[...] markers (StudyCreateParams reports none); the hints keep them.
        for name, hint in typing.get_type_hints(cls, include_extras=True).items():
            _, metadata, required = _unwrap(hint)
            wire = _alias(metadata) or name
            found[wire] = _field(wire, hint, total if required is None else required)
        return found
    return None


def _field(wire: str, hint: Any, required: bool) -> SdkField:
    shape = _shape(hint)
    return SdkField(
        wire=wire,
        required=required,
        nullable=shape.nullable,
        shown=show(hint),
        values=shape.values,
        nested=shape.nested,
        array=shape.array,
        generic=shape.generic,
    )


def _special(origin: object) -> str:
    """``Required`` or ``NotRequired`` of typing or typing_extensions, by name."""
    return repr(origin).rpartition(".")[2] if origin is not None else ""


def _unwrap(hint: Any) -> tuple[Any, list[object], bool | None]:
    """The hint without Annotated and Required wrappers, their metadata, and Required."""
    metadata: list[object] = []
    required: bool | None = None
    while True:
        origin = get_origin(hint)
        if origin is Annotated:
            metadata.extend(hint.__metadata__)
            hint = get_args(hint)[0]
        elif _special(origin) in ("Required", "NotRequired"):
            required = _special(origin) == "Required"
            hint = get_args(hint)[0]
        else:
            return hint, metadata, required


def _alias(metadata: list[object]) -> str | None:
    """The wire name of a TypedDict key: the ``alias`` of the SDK's ``PropertyInfo``."""
    for item in metadata:
        alias = getattr(item, "alias", None)
        if type(item).__name__ == "PropertyInfo" and isinstance(alias, str):
            return alias
    return None


def _shape(hint: Any) -> _Shape:
    hint, _, _ = _unwrap(getattr(hint, "__value__", hint))
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        shapes = [_shape(arg) for arg in rest]
        if len(shapes) == 1:
            inner = shapes[0]
        else:
            literal = all(shape.values is not None for shape in shapes)
            inner = _Shape(values=sum((s.values or () for s in shapes), ()) if literal else None)
        return replace(inner, nullable=inner.nullable or len(rest) < len(args))
    if origin is Literal:
        return _Shape(nullable=None in args, values=tuple(a for a in args if a is not None))
    if isinstance(hint, TypeVar):
        return _Shape(generic=True)
    if origin is not None and origin is not dict and len(args) == 1:
        item = _shape(args[0])
        return _Shape(values=item.values, nested=item.nested, array=True, generic=item.generic)
    if is_model(hint):
        return _Shape(nested=hint)
    return _Shape()


def show(hint: Any) -> str:
    """A type as the SDK's source writes it: ``Optional[str]``, ``List[UserReference]``."""
    hint, _, _ = _unwrap(hint)
    origin, args = get_origin(hint), get_args(hint)
    if hint is type(None):
        return "None"
    if origin in (Union, types.UnionType):
        rest = [arg for arg in args if arg is not type(None)]
        inner = (
            ", ".join(map(show, rest)) if len(rest) == 1 else f"Union[{', '.join(map(show, rest))}]"
        )
        return f"Optional[{inner}]" if len(rest) < len(args) else inner
    if origin is Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None:
        name = getattr(hint, "_name", None) or getattr(origin, "__name__", repr(origin))
        return f"{name}[{', '.join(map(show, args))}]"
    return str(getattr(hint, "__name__", repr(hint)))
