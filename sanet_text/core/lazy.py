"""Modules imported on first use: a still-image run never pays for the video libraries (PyAV and
OpenCV take about a tenth of a second to import, as much as the model build)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands in for module ``name`` and imports it when an attribute is first read."""

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attribute)


def lazy_module(name: str) -> Any:
    """``name``, imported when first used (typed Any: it is used as the module itself)."""
    return LazyModule(name)
