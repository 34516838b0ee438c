"""Conformance of the simulator with Huawei Cloud's official Python SDK.

Calls ListDesktops (filters, list filters sent as repeated keys, paging),
AddDesktopSubResources, ShowJob and DeleteDesktopSubResources through `huaweicloudsdkworkspace`
against a running simulator
(`cargo run -p hwc-workspace-cli -- simulator` prints what it needs as one JSON line) and
checks the answers the official SDK sees: it must sign requests the simulator accepts, and read
the simulator's error bodies as it reads the real service's.

Usage (any one of):
    python official_sdk.py --json '<the JSON line printed by `hwc-workspace simulator`>'
    python official_sdk.py --endpoint http://127.0.0.1:PORT --ak AK --sk SK \
        --project-id PID --desktop-ids ID1,ID2
    HWC_SIM_JSON='<line>' python official_sdk.py
    HWC_SIM_ENDPOINT=... HWC_SIM_AK=... HWC_SIM_SK=... HWC_SIM_PROJECT_ID=... \
        HWC_SIM_DESKTOP_IDS=ID1,ID2 python official_sdk.py

Prints one line per check and `N passed, M failed`; exits 1 if any check failed, 2 on bad usage.
"""

import argparse
import json
import logging
import os
import sys
import traceback

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkworkspace.v2 import (
    AddDesktopSubResourcesReq,
    AddDesktopSubResourcesRequest,
    DeleteDesktopSubResourcesReq,
    DeleteDesktopSubResourcesRequest,
    ListDesktopsRequest,
    ShowJobRequest,
    WorkspaceClient,
)

UNKNOWN_DESKTOP = "00000000-dead-4000-8000-000000000000"
UNKNOWN_TYPE = "FUTURE_SUB_RESOURCE_TYPE"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=os.environ.get("HWC_SIM_JSON"),
                        help="the JSON line printed by the serve example")
    parser.add_argument("--endpoint", default=os.environ.get("HWC_SIM_ENDPOINT"))
    parser.add_argument("--ak", default=os.environ.get("HWC_SIM_AK"))
    parser.add_argument("--sk", default=os.environ.get("HWC_SIM_SK"))
    parser.add_argument("--project-id", default=os.environ.get("HWC_SIM_PROJECT_ID"))
    parser.add_argument("--desktop-ids", default=os.environ.get("HWC_SIM_DESKTOP_IDS"),
                        help="comma-separated; the first one must hold a DESKTOP_SHARER")
    args = parser.parse_args(argv)
    if args.json:
        line = json.loads(args.json)
        args.endpoint = args.endpoint or line["endpoint"]
        args.ak = args.ak or line["ak"]
        args.sk = args.sk or line["sk"]
        args.project_id = args.project_id or line["project_id"]
        args.desktop_ids = args.desktop_ids or ",".join(line["desktop_ids"])
    missing = [name for name in ("endpoint", "ak", "sk", "project_id", "desktop_ids")
               if not getattr(args, name)]
    if missing:
        parser.error("missing: " + ", ".join(missing))
    args.desktop_ids = [d for d in args.desktop_ids.split(",") if d]
    return args


def client(endpoint, ak, sk, project_id):
    config = HttpConfig.get_default_config()
    # Plain http needs no setting; the default timeouts (60 s, 120 s) would let a hung
    # simulator stall the check for minutes.
    config.timeout = (5, 10)
    return (WorkspaceClient.new_builder()
            .with_http_config(config)
            .with_credentials(BasicCredentials(ak, sk, project_id))
            .with_endpoints([endpoint])
            .build())


def delete(c, desktop_ids, sub_resource_type="DESKTOP_SHARER"):
    body = DeleteDesktopSubResourcesReq(desktop_ids=desktop_ids, sub_resource_type=sub_resource_type)
    return c.delete_desktop_sub_resources(DeleteDesktopSubResourcesRequest(body=body))


def list_all(c, page_size, **filters):
    """Every desktop the official client reads, page by page; and the pages' totals."""
    desktops, totals, offset = [], [], 0
    while True:
        page = c.list_desktops(ListDesktopsRequest(offset=offset, limit=page_size, **filters))
        assert page.status_code == 200, f"status {page.status_code}"
        totals.append(page.total_count)
        desktops.extend(page.desktops or [])
        offset += len(page.desktops or [])
        if not page.desktops or offset >= page.total_count:
            return desktops, totals


def expect_error(call, status, code, message_part=None):
    try:
        response = call()
    except ClientRequestException as e:
        assert e.status_code == status, f"status {e.status_code}, expected {status}"
        assert e.error_code == code, f"error_code {e.error_code!r}, expected {code!r}"
        assert e.request_id, "no request id (X-Request-Id)"
        if message_part is not None:
            assert message_part in (e.error_msg or ""), f"{message_part!r} not in {e.error_msg!r}"
        return
    raise AssertionError(f"expected {status} {code}, got success: {response}")


def main(argv):
    args = parse_args(argv)
    logging.getLogger("HuaweiCloud-SDK").setLevel(logging.CRITICAL)
    good = client(args.endpoint, args.ak, args.sk, args.project_id)
    wrong_sk = client(args.endpoint, args.ak, args.sk + "-wrong", args.project_id)

    def demo_credentials_delete():
        response = delete(good, args.desktop_ids[:1])
        assert response.status_code == 200, f"status {response.status_code}"
        assert response.job_id, f"no job id in {response}"

    def wrong_secret_key_is_401():
        expect_error(lambda: delete(wrong_sk, args.desktop_ids[:1]), 401, "APIGW.0301")

    def unknown_desktop_is_404():
        expect_error(lambda: delete(good, [UNKNOWN_DESKTOP]), 404, "WKS.0102", UNKNOWN_DESKTOP)

    def unknown_type_passes_through_to_400():
        expect_error(lambda: delete(good, args.desktop_ids[:1], UNKNOWN_TYPE), 400, "WKS.0007", UNKNOWN_TYPE)

    state = {}

    def list_desktops_pages_and_every_field_parses():
        desktops, totals = list_all(good, 2, is_share_desktop=True)
        ids = [d.desktop_id for d in desktops]
        assert ids == args.desktop_ids, f"{ids} != {args.desktop_ids}"
        assert set(totals) == {len(args.desktop_ids)}, f"totals {totals}"
        for d in desktops:
            # The official model read each field the simulator sent, typed as it declares.
            assert d.share_resource_sku and d.computer_name and d.status and d.user_name, d
            assert isinstance(d.in_maintenance_mode, (bool, type(None))), d
        everyone, _ = list_all(good, 1000)
        state["unshared"] = [d.desktop_id for d in everyone if d.share_resource_sku is None]
        assert state["unshared"], "the demo has desktops without a sharer"

    def list_filters_are_signed_and_sent_as_the_service_reads_them():
        two = args.desktop_ids[:2]
        # A list filter goes out as repeated keys, each signed: the simulator checks both.
        page = good.list_desktops(ListDesktopsRequest(desktop_id=two))
        assert sorted(d.desktop_id for d in page.desktops) == sorted(two), page
        assert page.total_count == 2
        page = good.list_desktops(ListDesktopsRequest(is_share_desktop=False))
        assert [d.desktop_id for d in page.desktops] == state["unshared"], page
        page = good.list_desktops(ListDesktopsRequest(user_name=["no-such-user"], status="ACTIVE"))
        assert page.total_count == 0 and not page.desktops, page

    def add_sub_resources_then_show_job_reads_every_sub_job_field():
        target = state["unshared"][:1]
        body = AddDesktopSubResourcesReq(sub_resource_sku="sku.conformance", desktop_ids=target)
        added = good.add_desktop_sub_resources(AddDesktopSubResourcesRequest(body=body))
        assert added.status_code == 200 and added.job_id, added
        job = good.show_job(ShowJobRequest(job_id=added.job_id))
        assert job.id == added.job_id and job.status in ("WAITING", "RUNNING", "SUCCESS"), job
        sub = job.sub_jobs[0]
        assert sub.entities.desktop_id == target[0], sub
        assert sub.job_id == added.job_id and isinstance(sub.process, int) and 0 <= sub.process <= 100, sub
        page = good.list_desktops(ListDesktopsRequest(desktop_id=target))
        assert page.desktops[0].share_resource_sku == "sku.conformance", page

    def out_of_range_limit_is_400():
        expect_error(lambda: good.list_desktops(ListDesktopsRequest(limit=1001)), 400, "WKS.0006", "limit")

    checks = [list_desktops_pages_and_every_field_parses, list_filters_are_signed_and_sent_as_the_service_reads_them,
              add_sub_resources_then_show_job_reads_every_sub_job_field, out_of_range_limit_is_400,
              demo_credentials_delete, wrong_secret_key_is_401, unknown_desktop_is_404,
              unknown_type_passes_through_to_400]
    passed = failed = 0
    for check in checks:
        try:
            check()
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"FAIL {check.__name__}")
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {check.__name__}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
