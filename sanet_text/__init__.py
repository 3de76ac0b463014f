"""sanet-text: arbitrary style transfer from images, text or both, built on SANet."""

__version__ = "0.1.0"
