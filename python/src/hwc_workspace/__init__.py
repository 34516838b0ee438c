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

from ._errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientRequestError,
    ConfigurationError,
    InvalidRequestError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerResponseError,
    TransportError,
    UndecodableResponseError,
    WorkspaceError,
)
from ._native import AsyncClient, Client, Deleted, Job, SimulatedJob, Simulator, SubJob, __version__, sign_request

__all__ = [
    "Client",
    "AsyncClient",
    "Deleted",
    "Simulator",
    "Job",
    "SubJob",
    "SimulatedJob",
    "sign_request",
    "WorkspaceError",
    "InvalidRequestError",
    "ConfigurationError",
    "ApiError",
    "ClientRequestError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ServerResponseError",
    "UndecodableResponseError",
    "TransportError",
    "RequestTimeoutError",
    "JobFailedError",
    "JobTimeoutError",
    "__version__",
]
