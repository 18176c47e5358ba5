"""kana-server: a local stand-in for Kana's Admin and Client GraphQL APIs."""

__version__ = "0.1.0"
