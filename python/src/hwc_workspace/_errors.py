"""The exceptions of ``hwc_workspace``: one base class, and subclasses that really inherit
from it (and from the matching built-in where one exists, such as ``ValueError``).

The compiled module raises them; the mapping from the Rust core's errors is one function,
``to_py_err`` in ``crates/hwc-workspace-py/src/errors.rs``. Messages never contain a secret
key or a security token.
"""

from __future__ import annotations

# `typing` alone costs more than the rest of the import together (~10 ms): the annotations are
# strings at run time (see the `__future__` import), so only type checkers need the names.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Sequence, Tuple

__all__ = [
    "WorkspaceError",
    "InvalidRequestError",
    "ConfigurationError",
    "ApiError",
    "ClientRequestError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ClockSkewError",
    "ProxyAuthenticationError",
    "ThrottledError",
    "ServerResponseError",
    "ServiceUnavailableError",
    "UndecodableResponseError",
    "TransportError",
    "RequestTimeoutError",
    "JobFailedError",
    "JobTimeoutError",
    "JobOutcomeUnknownError",
]


class WorkspaceError(Exception):
    """Base class of every error this package raises (argument ``TypeError``\\ s aside).
    ``hints`` says what to do next, one sentence each (empty when the message says it all):
    the Rust core's advice for the error, the same the command line prints as ``hint:``
    lines, with settings spelled as ``Client``'s keyword arguments."""

    message: str
    hints: list[str]

    def __init__(self, message: str, *, hints: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hints = list(hints)

    def __reduce__(self) -> Tuple[Any, ...]:
        # Attributes are keyword arguments, which the default reduction drops: rebuild from
        # the message, then restore them from the instance dict (so pickling works, e.g.
        # across multiprocessing).
        return (type(self), (self.message,), dict(self.__dict__))

    def __str__(self) -> str:
        return self.message


class InvalidRequestError(WorkspaceError, ValueError):
    """The input was rejected before anything was sent. ``field`` names it, as in the API
    (list items as ``desktop_ids[3]``); for a list item, ``index`` is its place (from 0); for
    a line of a list read by ``read_desktop_ids``, ``line`` is its number (from 1)."""

    field: str
    index: Optional[int]
    line: Optional[int]
    expected: str
    got: str

    def __init__(
        self,
        message: str,
        *,
        field: str = "",
        index: Optional[int] = None,
        line: Optional[int] = None,
        expected: str = "",
        got: str = "",
        hints: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hints=hints)
        self.field = field
        self.index = index
        self.line = line
        self.expected = expected
        self.got = got


class ConfigurationError(WorkspaceError):
    """Credentials, project, region, endpoint or CA certificate are missing or wrong; nothing
    was sent. ``hints`` says what to do, one sentence each; ``kind`` names the problem
    (``missing_credentials``, ``invalid_credentials``, ``missing_project_id``,
    ``unknown_region``, ``missing_endpoint``, ``invalid_endpoint``, ``ca_certificate``, ...)."""

    kind: str

    def __init__(self, message: str, *, kind: str = "", hints: Sequence[str] = ()) -> None:
        super().__init__(message, hints=hints)
        self.kind = kind


class ApiError(WorkspaceError):
    """The service answered with an error. Every field of the service's error body is kept,
    ``error_detail`` included, with the HTTP status and the request id for support."""

    status_code: int
    error_code: Optional[str]
    error_msg: Optional[str]
    error_detail: Optional[str]
    encoded_authorization_message: Optional[str]
    request_id: Optional[str]

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 0,
        error_code: Optional[str] = None,
        error_msg: Optional[str] = None,
        error_detail: Optional[str] = None,
        encoded_authorization_message: Optional[str] = None,
        request_id: Optional[str] = None,
        hints: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hints=hints)
        self.status_code = status_code
        self.error_code = error_code
        self.error_msg = error_msg
        self.error_detail = error_detail
        self.encoded_authorization_message = encoded_authorization_message
        self.request_id = request_id


class ClientRequestError(ApiError):
    """A 4xx answer: the request was rejected; sending it again unchanged will not help
    (except after a 429, ``ThrottledError``).

    Each class below is one kind of answer as the Rust core names it (``ApiErrorKind``), so
    that this package and the command line agree on what an answer means; this class itself
    is the kind "another 4xx"."""


class BadRequestError(ClientRequestError):
    """400: the service rejected the body, e.g. an unsupported ``sub_resource_type``."""


class AuthenticationError(ClientRequestError):
    """401: the signature, access key, date or security token was not accepted."""


class PermissionDeniedError(ClientRequestError):
    """403: the credentials lack the permission; ``encoded_authorization_message`` may say
    why."""


class NotFoundError(ClientRequestError):
    """404: the project, some desktops or the job do not exist."""


class ClockSkewError(AuthenticationError):
    """401 because of the request's date: this machine's clock is off by more than the
    gateway allows (about 15 minutes)."""


class ProxyAuthenticationError(ClientRequestError):
    """407: a proxy between this client and the service refused the proxy credentials; the
    request did not reach the service."""


class ThrottledError(ClientRequestError):
    """429: throttled; the request was not processed. ``retries=N`` resends such answers
    with backoff."""


class ServerResponseError(ApiError):
    """A 5xx answer (the service or a gateway in front of it failed), or a status the API
    does not document at all, such as a redirect."""


class ServiceUnavailableError(ServerResponseError):
    """502, 503 or 504: the service or its gateway is unavailable for now; ``retries=N``
    resends such answers with backoff."""


class UndecodableResponseError(ApiError):
    """The service answered with a success status but not with the documented body:
    ``status_code`` is that status, ``error_code`` is None and ``error_msg`` says what was
    wrong. The operation may have taken effect."""


class JobFailedError(ApiError):
    """A waited-for job ended ``FAILED``: ``job`` is the final job, ``failed_desktop_ids`` the
    desktops whose sub-job failed; ``error_code`` and ``error_msg`` are the job's
    ``job_error_code`` and ``fail_reason``, and ``status_code`` is the 200 of the ShowJob
    answer that reported the failure."""

    job: Any
    failed_desktop_ids: Sequence[str]

    def __init__(self, message: str, *, job: Any = None, failed_desktop_ids: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.job = job
        self.failed_desktop_ids = list(failed_desktop_ids)


class JobOutcomeUnknownError(WorkspaceError):
    """A waited-for job ended, but its reports leave what became of some desktop unknown: the
    job did not report it, reported it still running, or the reports contradict each other
    (the job against its sub-jobs, or two sub-jobs of one desktop). ``job`` is the final job,
    ``unknown_desktop_ids`` the desktops concerned and ``reasons`` why, by desktop id."""

    job: Any
    unknown_desktop_ids: Sequence[str]
    reasons: dict

    def __init__(
        self,
        message: str,
        *,
        job: Any = None,
        unknown_desktop_ids: Sequence[str] = (),
        reasons: Optional[dict] = None,
        hints: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hints=hints)
        self.job = job
        self.unknown_desktop_ids = list(unknown_desktop_ids)
        self.reasons = dict(reasons or {})


class JobTimeoutError(WorkspaceError, TimeoutError):
    """A job did not end within ``wait_job``'s timeout; it may still finish.
    ``last_status`` is the status seen last."""

    job_id: str
    last_status: Optional[str]

    def __init__(
        self, message: str, *, job_id: str = "", last_status: Optional[str] = None, hints: Sequence[str] = ()
    ) -> None:
        super().__init__(message, hints=hints)
        self.job_id = job_id
        self.last_status = last_status


class TransportError(WorkspaceError):
    """The service could not be reached, or the exchange broke off: ``kind`` is
    ``connect``, ``timeout``, ``tls`` or ``broken``; ``endpoint`` is where the call went."""

    kind: str
    endpoint: str

    def __init__(self, message: str, *, kind: str = "", endpoint: str = "", hints: Sequence[str] = ()) -> None:
        super().__init__(message, hints=hints)
        self.kind = kind
        self.endpoint = endpoint


class RequestTimeoutError(TransportError, TimeoutError):
    """The connect timeout or the call's timeout ran out."""
