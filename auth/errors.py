"""One exception class per access outcome; `dashboard/errors.py` maps each to its HTTP status."""

from __future__ import annotations


class AuthError(Exception):
    """Base of the access outcomes; the message is safe to show to the caller."""

    status = 400


class AuthenticationRequired(AuthError):
    status = 401

    def __init__(self, message: str = "authentication required") -> None:
        super().__init__(message)


class Forbidden(AuthError):
    status = 403

    def __init__(self, message: str = "not allowed") -> None:
        super().__init__(message)


class ForbiddenFacility(Forbidden):
    """A facility outside the caller's scope (for a recruiter, also one that does not exist)."""


class UnknownFacility(AuthError):
    """A facility id that does not exist, asked for by a caller who sees every facility."""

    status = 404


class UserError(AuthError):
    """A user-management request was refused (bad email, recruiter without a facility, duplicate...)."""

    status = 400


class UserNotFound(UserError):
    status = 404


class TokenExpired(AuthenticationRequired):
    """A bearer token past its expiry: 401 saying when it expired."""
