"""A live-test request refused: sent back as {ok: false, error: code, message}. Nothing is stored."""

from __future__ import annotations


class LiveError(Exception):
    """A request refused: sent back as {ok: false, error: code, message}. Nothing is stored."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
