"""signlink: accessible video support for sign-language customers."""

__version__ = "0.1.0"
