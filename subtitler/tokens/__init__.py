"""Named API tokens with scopes (admin, asr): secrets shown once, stored hashed."""

from subtitler.tokens.service import SCOPES, TokenService

__all__ = ["SCOPES", "TokenService"]
