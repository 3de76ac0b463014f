"""sanet-text: arbitrary style transfer from images, text or both, built on SANet.

``from sanet_text import Stylizer`` is the Python entry point (see :mod:`sanet_text.stylizer`). It is
imported on first use, so ``import sanet_text`` stays light (no torch) for tools that only need the
package's metadata or one of its small modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .core import clock  # noqa: F401  before anything heavy: it starts the clock of the printed seconds

# The one place the version is written (pyproject.toml reads it): it follows the shipped model's
# version (configs/weights.yaml, sanet-base), so package 0.3.0 ships model 0.3.0.
__version__ = "0.3.0"
__all__ = ["Prompt", "PreparedStyle", "Stylizer", "StylizerOutput", "list_pretrained"]

if TYPE_CHECKING:
    from .models.weights import list_pretrained
    from .render.pipeline import PreparedStyle
    from .stylizer import Prompt, Stylizer, StylizerOutput


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import stylizer

        return getattr(stylizer, name)
    raise AttributeError(f"module 'sanet_text' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
