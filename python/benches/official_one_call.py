"""One DeleteDesktopSubResources call through Huawei's official Python SDK, as a user's
one-call script would make it: the bench times this process from start to exit against
``hwc-workspace delete-sub-resources`` and ``curl``.

    HUAWEICLOUD_SDK_AK=... HUAWEICLOUD_SDK_SK=... \\
        python official_one_call.py ENDPOINT PROJECT_ID DESKTOP_ID
"""

import os
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkworkspace.v2 import (
    DeleteDesktopSubResourcesReq,
    DeleteDesktopSubResourcesRequest,
    WorkspaceClient,
)


def main() -> None:
    endpoint, project_id, desktop_id = sys.argv[1:4]
    credentials = BasicCredentials(os.environ["HUAWEICLOUD_SDK_AK"], os.environ["HUAWEICLOUD_SDK_SK"], project_id)
    client = WorkspaceClient.new_builder().with_credentials(credentials).with_endpoints([endpoint]).build()
    request = DeleteDesktopSubResourcesRequest(
        body=DeleteDesktopSubResourcesReq(desktop_ids=[desktop_id], sub_resource_type="DESKTOP_SHARER")
    )
    response = client.delete_desktop_sub_resources(request)
    print(response.job_id)


if __name__ == "__main__":
    main()
