"""Placeholders for PySpark internals Ember does not have (serializers, the shuffle module, resource profiles,
the JVM gateway, ...), so that a test file importing them at its top still loads and its other tests run.

Any use of a placeholder (calling it, reading an attribute, isinstance) raises ``NotInEmber``, a BaseException:
an ``assertRaises(Exception, ...)`` around it cannot pass by accident; the test errors instead.
"""

import sys
import types


class NotInEmber(BaseException):
    """A test used a PySpark internal that Ember does not have."""


class _Absent:
    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _refuse(self, *args, **kwargs):
        raise NotInEmber(f"{object.__getattribute__(self, '_name')} is a PySpark internal that Ember does not have")

    __call__ = _refuse

    def __getattr__(self, attribute):
        if attribute.startswith("_"):
            raise AttributeError(attribute)  # introspection (pytest's collection, copy, pickle) finds nothing
        raise NotInEmber(f"{object.__getattribute__(self, '_name')}.{attribute} is a PySpark internal that Ember "
                         f"does not have")

    def __instancecheck__(self, instance):
        self._refuse()

    def __mro_entries__(self, bases):
        self._refuse()


class _AbsentModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Absent(f"{self.__name__}.{name}")


def register(*names: str, **present: object) -> None:
    """Makes each module name importable, every attribute a placeholder except ``present`` ones."""
    for name in names:
        module = _AbsentModule(name)
        module.__path__ = []  # A package too, so that submodules can be registered beneath it.
        module.__dict__.update(present)
        sys.modules[name] = module
