"""``Compact``: models whose JSON leaves out what reading it back would give anyway.

Activity requests and results and a run's input are written into Temporal history for every
customer, so every ``"tier":null`` or ``"records":[]`` is paid once per run. A ``Compact`` model's
JSON (``mode="json"``, as Temporal's pydantic converter writes payloads) omits each field whose
value is its default, when that default is a zero value: ``None``, ``False``, ``0``, ``""``, an
empty list or dict. Nested models are pruned the same way, whatever their class.

Only zero defaults, so that an old payload keeps its meaning: a field read back from an omitted
key takes its default, and a default like ``history_budget = 4000`` or ``stage = "reach"`` might
change one day, which would change what histories recorded before say. Such fields are always
written. Reading is unchanged: the models accept their full JSON as before (recorded histories,
requests scheduled before), and their Python dumps (``model_dump()``) stay whole.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, SerializationInfo, SerializerFunctionWrapHandler, model_serializer

_ZERO_TYPES = (type(None), bool, int, float, str, list, dict, tuple)


class Compact(BaseModel):
    keep_whole: ClassVar[frozenset[str]] = frozenset()
    """Fields whose value is written as it dumps, nothing left out inside (a whole plan: its JSON is
    its own business); left out still when at a zero default."""

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if info.mode_is_json() and isinstance(data, dict):
            prune(self, data)
        return data


def prune(model: BaseModel, data: dict[str, Any]) -> None:
    """Drop from ``data`` (``model``'s JSON dict) the fields at a zero default, here and nested."""
    for name, key, zero, nested in _fields_of(type(model)):
        if key not in data:
            continue
        value = getattr(model, name)
        if zero is not _NO_ZERO and value == zero and _same_kind(value, zero):
            del data[key]
        elif nested:
            _prune_nested(value, data[key])


_NO_ZERO = object()  # a field that is required, or whose default is not a zero value
_FIELDS: dict[type[BaseModel], tuple[tuple[str, str, Any, bool], ...]] = {}


def _fields_of(cls: type[BaseModel]) -> tuple[tuple[str, str, Any, bool], ...]:
    """Each field's (name, JSON key, zero default or ``_NO_ZERO``, whether to prune inside it), worked
    out once per class: payloads are converted for every activity and every run."""
    fields = _FIELDS.get(cls)
    if fields is None:
        whole = cls.keep_whole if issubclass(cls, Compact) else frozenset()
        table = []
        for name, field in cls.model_fields.items():
            zero: Any = _NO_ZERO
            if not field.is_required() and _is_zero(default := field.get_default(call_default_factory=True)):
                zero = default  # compared only, never handed out: a shared empty list stays empty
            table.append((name, field.serialization_alias or field.alias or name, zero, name not in whole))
        fields = _FIELDS[cls] = tuple(table)
    return fields


def _prune_nested(value: Any, data: Any) -> None:
    if isinstance(value, BaseModel) and isinstance(data, dict):
        prune(value, data)
    elif isinstance(value, list | tuple) and isinstance(data, list) and len(value) == len(data):
        for item, dumped in zip(value, data, strict=True):
            _prune_nested(item, dumped)


def _same_kind(value: Any, default: Any) -> bool:
    """``0.0`` for a default ``0`` is the same number (``float = 0``); ``False`` is not ``0``."""
    numbers = (int, float)
    if isinstance(value, numbers) and isinstance(default, numbers):
        return isinstance(value, bool) == isinstance(default, bool)
    return type(value) is type(default)


def _is_zero(default: Any) -> bool:
    return isinstance(default, _ZERO_TYPES) and not default
