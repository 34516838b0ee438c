"""The base of the answers' object classes (generated from the spec into ``_records.py``).

A record has one attribute per property of its schema, ``None`` when the service left it out;
nested objects are records too. What the service sends beyond the spec is kept, not dropped:
``to_dict()`` returns it with the rest, so a field the service adds is never lost on the way.
"""

from typing import Any, ClassVar, Dict, Mapping, Optional, Tuple, Type, Union

# How a property is read: None (as the JSON holds it), the name of a record class, or
# ("list", name) for a list of them.
_Kind = Union[None, str, Tuple[str, str]]

_CLASSES: Dict[str, Type["Record"]] = {}


class Record:
    """An object of an answer, typed by its schema in the spec."""

    __slots__ = ("request_id", "_extra")
    _FIELDS: ClassVar[Tuple[Tuple[str, _Kind], ...]] = ()

    request_id: Optional[str]
    """The service's request id (``X-Request-Id``) of the answer, on the answer's own object."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _CLASSES[cls.__name__] = cls

    def __init__(self, **fields: Any) -> None:
        known = {name for name, _ in self._FIELDS}
        unknown = sorted(set(fields) - known)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {unknown[0]!r}")
        for name, _ in self._FIELDS:
            setattr(self, name, fields.get(name))
        self.request_id = None
        self._extra: Dict[str, Any] = {}

    @classmethod
    def _from(cls, data: Mapping[str, Any], request_id: Optional[str] = None) -> "Record":
        """The record of a JSON object as the service sent it."""
        record = cls.__new__(cls)
        for name, kind in cls._FIELDS:
            setattr(record, name, _read(kind, data.get(name)))
        known = {name for name, _ in cls._FIELDS}
        record._extra = {key: value for key, value in data.items() if key not in known}
        record.request_id = request_id
        return record

    def to_dict(self) -> Dict[str, Any]:
        """The object as JSON-ready values: its properties that are set, and what the service
        sent beyond the spec."""
        out: Dict[str, Any] = {}
        for name, _ in self._FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = _plain(value)
        out.update(self._extra)
        return out

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name, _ in self._FIELDS if getattr(self, name) is not None)
        return f"{type(self).__name__}({shown})"


def _read(kind: _Kind, value: Any) -> Any:
    if value is None or kind is None:
        return value
    if isinstance(kind, tuple):
        if not isinstance(value, list):
            return value
        return [_read(kind[1], item) for item in value]
    if isinstance(value, dict):
        return _CLASSES[kind]._from(value)
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
