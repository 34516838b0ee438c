"""Fast, typed client for the Huawei Cloud Workspace operation *Deleting Auxiliary Resources
from the Desktop* (``POST /v2/{project_id}/desktop/delete-sub-resources``), sync and asyncio,
with the simulator of the API for your own tests, and ``sign_request`` for any Huawei Cloud
API request (SDK-HMAC-SHA256).

>>> import hwc_workspace as hw
>>> with hw.Simulator() as sim:
...     client = sim.client()
...     deleted = client.delete_desktop_sub_resources(sim.desktop_ids[:1], sub_resource_type="DESKTOP_SHARER")
...     [job.job_id for job in sim.jobs()] == [deleted.job_id]
True

Logs go to the ``logging`` logger ``hwc_workspace`` (the simulator's to
``hwc_workspace.simulator``); they never contain a secret key or a security token.
"""

from ._native import (
    Account,
    AsyncClient,
    AsyncListing,
    BatchOutcome,
    BulkRun,
    Client,
    Deleted,
    DesktopOutcome,
    Job,
    Listing,
    SignedRequest,
    SimulatedJob,
    Simulator,
    SubJob,
    __version__,
    read_desktop_ids,
    sign_request,
)

# `Account` is a sequence for `isinstance` too. `_collections_abc` is what `collections.abc`
# re-exports, and the interpreter has loaded it before any import of ours: registering costs
# no import.
from _collections_abc import Sequence as _Sequence  # noqa: E402

_Sequence.register(Account)

# The exception classes load on first use (an error raised, or an attribute read): they
# are a third of the import time, and a call that succeeds never needs them.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._errors import (
        ApiError,
        AuthenticationError,
        BadRequestError,
        ClientRequestError,
        ClockSkewError,
        ConfigurationError,
        InvalidRequestError,
        JobFailedError,
        JobOutcomeUnknownError,
        JobTimeoutError,
        NotFoundError,
        PermissionDeniedError,
        ProxyAuthenticationError,
        RequestTimeoutError,
        ServerResponseError,
        ServiceUnavailableError,
        ThrottledError,
        TransportError,
        UndecodableResponseError,
        WorkspaceError,
    )
    from ._record import Record
    from ._records import AddDesktopSubResourcesResponse, AttachInstancesUserInfo, ListDesktopsResponse, SimpleDesktopInfo, Tag

__all__ = [
    "Client",
    "AsyncClient",
    "Deleted",
    "BulkRun",
    "BatchOutcome",
    "Account",
    "DesktopOutcome",
    "Simulator",
    "Job",
    "SubJob",
    "SignedRequest",
    "SimulatedJob",
    "sign_request",
    "read_desktop_ids",
    "Record",
    "Listing",
    "AsyncListing",
    "ListDesktopsResponse",
    "SimpleDesktopInfo",
    "AttachInstancesUserInfo",
    "Tag",
    "AddDesktopSubResourcesResponse",
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
    "JobOutcomeUnknownError",
    "JobTimeoutError",
    "__version__",
]


if not TYPE_CHECKING:  # for type checkers the names above are plain imports, typos stay errors
    _LAZY_ERRORS = frozenset(__all__) - frozenset(globals())

    # The answers' record classes load with the first answer that needs them, like the errors.
    _LAZY_RECORDS = frozenset({"ListDesktopsResponse", "SimpleDesktopInfo", "AttachInstancesUserInfo", "Tag", "AddDesktopSubResourcesResponse"})

    def __getattr__(name: str) -> object:
        if name == "Record":
            from ._record import Record

            return Record
        if name in _LAZY_RECORDS:
            from . import _records

            return getattr(_records, name)
        if name in _LAZY_ERRORS:
            from . import _errors

            return getattr(_errors, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
