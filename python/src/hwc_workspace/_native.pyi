# Type stubs of the compiled module; `python -m mypy.stubtest hwc_workspace` checks them
# against the module as built.
import asyncio
import datetime
import os
from types import TracebackType
from typing import IO, Awaitable, Iterable, Mapping, Optional, Sequence, Type, Union, final

from typing_extensions import Self

__all__ = [
    "AsyncClient",
    "BatchOutcome",
    "BulkRun",
    "Client",
    "Deleted",
    "DesktopOutcome",
    "Job",
    "SimulatedJob",
    "Simulator",
    "SubJob",
    "__version__",
    "read_desktop_ids",
    "sign_request",
]

__version__: str

_Path = Union[str, "os.PathLike[str]"]

@final
class Deleted:
    """The outcome of a successful ``delete_desktop_sub_resources``."""

    def __new__(cls, job_id: str, request_id: Optional[str] = None) -> Self: ...
    @property
    def job_id(self) -> str:
        """The id of the asynchronous job that deletes the resources."""
    @property
    def request_id(self) -> Optional[str]:
        """The service's request id (``X-Request-Id``), for support cases."""
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Client:
    """A blocking client; thread-safe, and each call releases the GIL while it waits.

    Without ``ak`` and ``sk``, credentials come from ``HUAWEICLOUD_SDK_AK`` /
    ``HUAWEICLOUD_SDK_SK`` (``HUAWEICLOUD_SDK_SECURITY_TOKEN``), ``~/.huaweicloud/credentials``,
    then the ECS instance metadata service (``metadata_endpoint``, ``HWC_METADATA_ENDPOINT``;
    ``"off"`` leaves it out), as in the official SDK; without a project id (given,
    ``HUAWEICLOUD_SDK_PROJECT_ID``, the file's) it is looked up through IAM for the region.
    ``endpoint`` wins over ``region``. ``proxy`` (``http://[user:password@]host:port``) is
    always used; without it ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` / ``NO_PROXY``
    are honoured, never for loopback. ``ca_cert`` is a PEM file path or PEM bytes, trusted besides the system's.
    ``timeout`` bounds each attempt; ``retries`` opts in to retrying 429/502/503/504.
    """

    def __new__(
        cls,
        *,
        ak: Optional[str] = None,
        sk: Optional[str] = None,
        project_id: Optional[str] = None,
        security_token: Optional[str] = None,
        endpoint: Optional[str] = None,
        region: Optional[str] = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 0,
        ca_cert: Union[_Path, bytes, None] = None,
        proxy: Optional[str] = None,
        metadata_endpoint: Optional[str] = None,
    ) -> Self: ...
    def delete_desktop_sub_resources(
        self,
        desktop_ids: Sequence[str],
        *,
        sub_resource_type: str = "DESKTOP_SHARER",
        order_id: Optional[str] = None,
    ) -> Deleted:
        """Deletes the sub-resources (e.g. ``DESKTOP_SHARER``) of 1 to 100 desktops."""
    def delete_many(
        self,
        desktop_ids: Iterable[str],
        *,
        sub_resource_type: str = "DESKTOP_SHARER",
        order_id: Optional[str] = None,
        concurrency: int = 4,
        wait: bool = False,
        wait_timeout: float = 600.0,
        journal: Optional[_Path] = None,
        resend_unknown: bool = False,
        resend_refused: bool = False,
        throttle_timeout: float = 120.0,
    ) -> BulkRun:
        """Deletes the sub-resources of any number of desktops, in batches of 100; iterate the
        run for each batch's outcome as it ends, then ``account()`` for every desktop. Each id
        follows the single call's rule (nothing is trimmed); a single ``str`` or ``bytes`` is
        refused, not iterated."""
    def show_job(self, job_id: str) -> Job:
        """Reads a job and its sub-jobs, e.g. the job a deletion answered with."""
    def wait_job(self, job_id: str, *, timeout: float = 600.0, poll_interval: float = 0.5) -> Job:
        """Polls a job until it ends: returns the final job only when every desktop it reports
        succeeded and nothing contradicts that; raises ``JobFailedError`` when a desktop or the
        job failed, ``JobOutcomeUnknownError`` when a desktop is not reported, still running or
        reported in contradiction, and ``JobTimeoutError`` when ``timeout`` runs out."""
    @property
    def endpoint(self) -> str: ...
    @property
    def project_id(self) -> Optional[str]:
        """``None`` until the first call looked it up through IAM, when none was given."""
    @property
    def ak(self) -> Optional[str]:
        """``None`` until the first call fetched keys from the instance metadata service."""
    def close(self) -> None:
        """Closes the connection pool. Its bulk runs stop: no new batch, and the close waits
        (within one request's time) for their batches in flight to be recorded."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None: ...

@final
class DesktopOutcome:
    """One desktop's line of a bulk run's account."""

    @property
    def desktop_id(self) -> str: ...
    @property
    def status(self) -> str:
        """``SUCCESS``, ``FAILED``, ``UNKNOWN``, or ``ACCEPTED`` when the run did not wait."""
    @property
    def job_id(self) -> Optional[str]: ...
    @property
    def request_id(self) -> Optional[str]: ...
    @property
    def error_code(self) -> Optional[str]: ...
    @property
    def fail_reason(self) -> Optional[str]:
        """Why it failed, or why its state is unknown."""

@final
class BatchOutcome:
    """One batch's outcome in a bulk run."""

    @property
    def index(self) -> int: ...
    @property
    def desktop_ids(self) -> list[str]: ...
    @property
    def status(self) -> str:
        """``ACCEPTED``, ``REJECTED`` (not processed), ``UNKNOWN`` (sent, answer unknown) or
        ``NOT_SENT``."""
    @property
    def job_id(self) -> Optional[str]: ...
    @property
    def request_id(self) -> Optional[str]: ...
    @property
    def error(self) -> Optional[BaseException]: ...
    @property
    def desktops(self) -> list[DesktopOutcome]: ...
    @property
    def resumed(self) -> bool: ...
    @property
    def verdict(self) -> str:
        """``SUCCESS`` only when every desktop succeeded and no job failed; ``ACCEPTED``
        without waiting; ``FAILED``; ``UNKNOWN``."""

@final
class BulkRun:
    """A running bulk deletion: an iterator (and async iterator) of ``BatchOutcome``, and a
    context manager (``with client.delete_many(...) as run:``). A Ctrl-C while iterating
    starts no new batch, yields the ones in flight, then raises ``KeyboardInterrupt``.

    Letting go of it (``break``, an exception in the loop body, leaving the ``with`` block,
    dropping it, cancelling the task of an ``async for``, closing its client, the
    interpreter's exit) stops it the same way: no new batch, and the batches in flight end
    and are recorded in the journal and the account (in the background when nobody iterates).
    A run of a closed client, or one iterated in a forked child, raises ``RuntimeError``."""

    def __iter__(self) -> Self: ...
    def __next__(self) -> BatchOutcome: ...
    def __aiter__(self) -> Self: ...
    def __anext__(self) -> Awaitable[BatchOutcome]: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        """Stops the run and waits (within the client's time for one request) for the
        batches in flight to be recorded."""
    def __aenter__(self) -> asyncio.Future[Self]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> Awaitable[None]: ...
    def cancel(self) -> None: ...
    def account(self) -> list[DesktopOutcome]:
        """Every desktop's state, in input order; complete once the run ended (after a stop,
        this waits for the batches in flight to be recorded)."""
    @property
    def throttled(self) -> int: ...

@final
class AsyncClient:
    """An asyncio client with the arguments of ``Client``; calls return awaitables, and any
    number of them may be in flight at once."""

    def __new__(
        cls,
        *,
        ak: Optional[str] = None,
        sk: Optional[str] = None,
        project_id: Optional[str] = None,
        security_token: Optional[str] = None,
        endpoint: Optional[str] = None,
        region: Optional[str] = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        retries: int = 0,
        ca_cert: Union[_Path, bytes, None] = None,
        proxy: Optional[str] = None,
        metadata_endpoint: Optional[str] = None,
    ) -> Self: ...
    async def delete_desktop_sub_resources(
        self,
        desktop_ids: Sequence[str],
        *,
        sub_resource_type: str = "DESKTOP_SHARER",
        order_id: Optional[str] = None,
    ) -> Deleted:
        """Deletes the sub-resources (e.g. ``DESKTOP_SHARER``) of 1 to 100 desktops."""
    def delete_many(
        self,
        desktop_ids: Iterable[str],
        *,
        sub_resource_type: str = "DESKTOP_SHARER",
        order_id: Optional[str] = None,
        concurrency: int = 4,
        wait: bool = False,
        wait_timeout: float = 600.0,
        journal: Optional[_Path] = None,
        resend_unknown: bool = False,
        resend_refused: bool = False,
        throttle_timeout: float = 120.0,
    ) -> BulkRun:
        """Deletes the sub-resources of any number of desktops, in batches of 100; iterate the
        run for each batch's outcome as it ends, then ``account()`` for every desktop. Each id
        follows the single call's rule (nothing is trimmed); a single ``str`` or ``bytes`` is
        refused, not iterated."""
    async def show_job(self, job_id: str) -> Job:
        """Reads a job and its sub-jobs (a coroutine)."""
    async def wait_job(self, job_id: str, *, timeout: float = 600.0, poll_interval: float = 0.5) -> Job:
        """Polls a job until it ends (a coroutine); see ``Client.wait_job``."""
    @property
    def endpoint(self) -> str: ...
    @property
    def project_id(self) -> Optional[str]:
        """``None`` until the first call looked it up through IAM, when none was given."""
    @property
    def ak(self) -> Optional[str]:
        """``None`` until the first call fetched keys from the instance metadata service."""
    def close(self) -> None:
        """Closes the connection pool. Its bulk runs stop: no new batch, and the close waits
        (within one request's time) for their batches in flight to be recorded."""
    def __aenter__(self) -> asyncio.Future[Self]: ...
    def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> asyncio.Future[None]: ...

@final
class SubJob:
    """A sub-job: the part of a job for one desktop."""

    @property
    def id(self) -> Optional[str]: ...
    @property
    def job_type(self) -> Optional[str]: ...
    @property
    def status(self) -> Optional[str]: ...
    @property
    def desktop_id(self) -> Optional[str]: ...
    @property
    def desktop_name(self) -> Optional[str]: ...
    @property
    def user_name(self) -> Optional[str]: ...
    @property
    def product_id(self) -> Optional[str]: ...
    @property
    def ip_address(self) -> Optional[str]: ...
    @property
    def begin_time(self) -> Optional[str]: ...
    @property
    def end_time(self) -> Optional[str]: ...
    @property
    def error_code(self) -> Optional[str]: ...
    @property
    def fail_reason(self) -> Optional[str]: ...

@final
class Job:
    """A job (task) and its sub-jobs, as ShowJob reports it."""

    @property
    def id(self) -> str: ...
    @property
    def job_type(self) -> Optional[str]: ...
    @property
    def status(self) -> str: ...
    @property
    def begin_time(self) -> Optional[str]: ...
    @property
    def end_time(self) -> Optional[str]: ...
    @property
    def job_error_code(self) -> Optional[str]: ...
    @property
    def fail_reason(self) -> Optional[str]: ...
    @property
    def sub_jobs_total(self) -> Optional[int]: ...
    @property
    def sub_jobs(self) -> list[SubJob]: ...
    @property
    def failed_sub_jobs(self) -> list[SubJob]:
        """The sub-jobs that failed."""

@final
class SimulatedJob:
    """A deletion the simulator accepted (its own record; ``Client.show_job`` reads the job as
    the service reports it)."""

    @property
    def job_id(self) -> str: ...
    @property
    def desktop_ids(self) -> list[str]: ...
    @property
    def sub_resource_type(self) -> str: ...
    @property
    def order_id(self) -> Optional[str]: ...
    @property
    def request_id(self) -> str: ...
    @property
    def access_key(self) -> str: ...
    @property
    def removed_from(self) -> list[str]: ...
    @property
    def failed_desktops(self) -> list[str]: ...
    @property
    def created_at(self) -> datetime.datetime: ...

@final
class Simulator:
    """The Workspace API simulator, in this process on ``127.0.0.1``; use it as a context
    manager. It verifies signatures like the service and records what was deleted."""

    def __new__(
        cls,
        *,
        state: Union[Mapping[str, object], _Path, None] = None,
        latency: float = 0.0,
        job_duration: float = 1.0,
    ) -> Self: ...
    @property
    def endpoint(self) -> str: ...
    @property
    def ak(self) -> str: ...
    @property
    def sk(self) -> str: ...
    @property
    def denied_ak(self) -> str: ...
    @property
    def denied_sk(self) -> str: ...
    @property
    def project_id(self) -> str: ...
    @property
    def desktop_ids(self) -> list[str]: ...
    @property
    def request_count(self) -> int: ...
    def desktops(self) -> dict[str, list[str]]: ...
    def jobs(self) -> list[SimulatedJob]: ...
    def fail_sub_jobs(self, desktop_ids: Sequence[str]) -> None: ...
    def report_jobs_as(self, kind: str) -> None:
        """Reports jobs as no documented service does, to test how they are read."""
    def fail_next(self, *faults: str) -> None: ...
    def set_latency(self, seconds: float) -> None: ...
    def clear_faults(self) -> None: ...
    def client(self, *, timeout: float = 30.0, retries: int = 0) -> Client: ...
    def async_client(self, *, timeout: float = 30.0, retries: int = 0) -> AsyncClient: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None: ...

def sign_request(
    method: str,
    url: str,
    headers: Optional[Mapping[str, str]] = None,
    body: Union[bytes, bytearray, str, None] = None,
    *,
    ak: str,
    sk: str,
    security_token: Optional[str] = None,
) -> dict[str, str]:
    """Signs a Huawei Cloud API request with SDK-HMAC-SHA256 and returns every header to
    send, in order, exactly as the official signer does."""

def read_desktop_ids(source: Union[_Path, IO[str], IO[bytes]]) -> list[str]:
    """Reads desktop ids, one per line, from a file (a path) or an open file object, by the
    command line's ``--desktop-ids-from`` rules (the Rust core's one reader): a UTF-8 BOM is
    skipped, blank and ``#`` lines are ignored, each id is trimmed; a line that is not UTF-8
    or longer than any id, and an input beyond 256 MiB, raise ``InvalidRequestError`` naming
    the line (``.line``) and the source. The list it returns is what ``delete_many`` takes."""
