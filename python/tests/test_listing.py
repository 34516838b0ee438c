"""Listings and the operations around the deletion, from Python: ``iter_desktops`` pages through
``ListDesktops`` (each desktop once, also while the inventory changes), answers become records
typed by their schema, and adding then deleting leaves the inventory as it started."""

import asyncio

import pytest

import hwc_workspace as hw


def client_of(sim: hw.Simulator) -> hw.Client:
    return hw.Client(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint)


def sharers(sim: hw.Simulator) -> list:
    return [desktop for desktop, resources in sim.desktops().items() if "DESKTOP_SHARER" in resources]


def test_a_listing_of_several_pages_yields_each_desktop_once_as_a_typed_record() -> None:
    with hw.Simulator(desktops=300, shared_fraction=0.5) as sim:
        client = client_of(sim)
        listing = client.iter_desktops(is_share_desktop=True, page_size=40)
        desktops = list(listing)
        assert [d.desktop_id for d in desktops] == sorted(sharers(sim))
        assert listing.pages == 4 and listing.total == 150 and not listing.total_moved
        first = desktops[0]
        assert isinstance(first, hw.SimpleDesktopInfo) and isinstance(first, hw.Record)
        assert first.share_resource_sku == "workspace.desktop.sharer"
        assert isinstance(first.tags[0], hw.Tag) and first.tags[0].key == "team"
        assert first.pool_id is None, "a property the service left out is None"
        assert first.to_dict()["desktop_id"] == first.desktop_id
        assert [d.desktop_id for d in client.iter_desktops(max_items=5, page_size=2)] == sorted(sim.desktops())[:5]


def test_desktops_that_leave_while_the_listing_is_read_cost_no_other_its_place() -> None:
    with hw.Simulator(desktops=400, shared_fraction=1.0, job_duration=0) as sim:
        client = client_of(sim)
        expected = sorted(sharers(sim))
        listed = []
        listing = client.iter_desktops(is_share_desktop=True, page_size=50)
        for desktop in listing:
            listed.append(desktop.desktop_id)
            if len(listed) == 70:
                client.delete_desktop_sub_resources(listed[:60])
        assert listed == expected
        assert listing.total_moved


def test_the_async_listing_reads_the_same_items() -> None:
    with hw.Simulator(desktops=120, shared_fraction=0.25) as sim:

        async def main() -> list:
            client = hw.AsyncClient(ak=sim.ak, sk=sim.sk, project_id=sim.project_id, endpoint=sim.endpoint)
            async with client:
                return [d.desktop_id async for d in client.iter_desktops(is_share_desktop=True, page_size=7)]

        assert asyncio.run(main()) == sorted(sharers(sim))


def test_one_page_is_a_record_with_the_total_and_the_request_id() -> None:
    with hw.Simulator(desktops=30, shared_fraction=0.5) as sim:
        client = client_of(sim)
        active = [d.desktop_id for d in client.iter_desktops(status="ACTIVE")]
        page = client.list_desktops(limit=4, offset=2, status="ACTIVE")
        assert isinstance(page, hw.ListDesktopsResponse)
        assert page.total_count == len(active) == 18
        assert [d.desktop_id for d in page.desktops] == active[2:6]
        assert page.request_id


def test_adding_then_deleting_leaves_the_inventory_as_it_started() -> None:
    with hw.Simulator(desktops=12, shared_fraction=0.0, job_duration=0) as sim:
        client = client_of(sim)
        before = sim.desktops()
        chosen = sorted(before)[:4]
        added = client.add_desktop_sub_resources(chosen, "sku.collab")
        assert isinstance(added, hw.AddDesktopSubResourcesResponse) and added.job_id and added.request_id
        assert [d.desktop_id for d in client.iter_desktops(is_share_desktop=True)] == chosen
        assert client.wait_job(added.job_id, timeout=10).status == "SUCCESS"
        client.delete_desktop_sub_resources(chosen)
        assert sim.desktops() == before


def test_listing_arguments_are_checked_before_anything_is_sent() -> None:
    with hw.Simulator() as sim:
        client = client_of(sim)
        for kwargs, field in [
            ({"page_size": 0}, "page_size"),
            ({"page_size": 1001}, "page_size"),
            ({"desktop_id": ["x"] * 101}, "desktop_id"),
        ]:
            with pytest.raises(hw.InvalidRequestError) as refused:
                client.iter_desktops(**kwargs)
            assert refused.value.field == field
        with pytest.raises(TypeError):
            client.iter_desktops(is_share_desktop="yes")
        with pytest.raises(TypeError):
            client.iter_desktops(offset=3)  # the pager's own
        assert sim.request_count == 0


def test_records_are_built_by_keyword_and_compare_by_value() -> None:
    tag = hw.Tag(key="team", value="a")
    assert tag == hw.Tag(key="team", value="a") and tag != hw.Tag(key="team", value="b")
    assert repr(tag) == "Tag(key='team', value='a')"
    with pytest.raises(TypeError, match="no field 'colour'"):
        hw.Tag(colour="red")
    kept = hw.SimpleDesktopInfo._from({"desktop_id": "d", "new_field": 1})
    assert kept.to_dict() == {"desktop_id": "d", "new_field": 1}, "what the spec does not know yet is kept"


def test_delete_many_where_selects_then_deletes_and_a_resumed_run_keeps_the_journals_ids(tmp_path) -> None:
    with hw.Simulator(desktops=350, shared_fraction=1.0, job_duration=0) as sim:
        client = client_of(sim)
        journal = tmp_path / "run.jsonl"
        selected = [d.desktop_id for d in client.iter_desktops(is_share_desktop=True, status="ACTIVE")]
        run = client.delete_many(where={"is_share_desktop": True, "status": "ACTIVE"}, journal=journal, concurrency=1)
        first = next(iter(run))
        assert len(first.desktop_ids) == 100
        run.cancel()
        list(run)
        # The fleet changes: the first batch's desktops match again; a new listing would take them.
        client.add_desktop_sub_resources(first.desktop_ids, "sku.other")
        resumed = client.delete_many(where={"is_share_desktop": True, "status": "ACTIVE"}, journal=journal)
        list(resumed)
        accounted = [d.desktop_id for d in resumed.account()]
        assert accounted == selected, "the journal's ids, in the listing's order"
        still_shared = {d.desktop_id for d in client.iter_desktops(is_share_desktop=True, status="ACTIVE")}
        assert still_shared == set(first.desktop_ids), "the resumed run did not list again"


def test_delete_many_where_refuses_what_cannot_select(tmp_path) -> None:
    with hw.Simulator() as sim:
        client = client_of(sim)
        with pytest.raises(TypeError, match="not both"):
            client.delete_many(["d"], where={"status": "ACTIVE"})
        with pytest.raises(TypeError, match="give desktop_ids"):
            client.delete_many()
        with pytest.raises(TypeError):
            client.delete_many(where=[("status", "ACTIVE")])
        with pytest.raises(hw.InvalidRequestError) as refused:
            client.delete_many(where={})
        assert refused.value.field == "where"
        with pytest.raises(hw.InvalidRequestError) as refused:
            client.delete_many(where={"colour": "red"})
        with pytest.raises(TypeError):
            client.delete_many(where={"is_share_desktop": "yes"})
        assert sim.request_count == 0


def test_a_batch_refused_for_unknown_desktops_keeps_the_known_ones() -> None:
    with hw.Simulator(desktops=6, shared_fraction=1.0, job_duration=0) as sim:
        client = client_of(sim)
        known = sorted(sim.desktops())
        run = client.delete_many(known[:3] + ["gone-1"] + known[3:], wait=True)
        list(run)
        statuses = {d.desktop_id: d.status for d in run.account()}
        assert statuses.pop("gone-1") == "NOT_FOUND"
        assert set(statuses.values()) == {"SUCCESS"} and len(statuses) == 6
        plain = client.delete_many(known[:1] + ["gone-2"], split_not_found=False)
        list(plain)
        assert {d.status for d in plain.account()} == {"FAILED"}


def test_add_many_then_delete_many_by_selection_leaves_the_fleet_as_it_was(tmp_path) -> None:
    with hw.Simulator(desktops=150, shared_fraction=0.0, job_duration=0) as sim:
        client = client_of(sim)
        before = sim.desktops()
        run = client.add_many(where={"status": "ACTIVE"}, sub_resource_sku="sku.collab", wait=True,
                              journal=tmp_path / "add.jsonl")
        list(run)
        active = [d.desktop_id for d in client.iter_desktops(status="ACTIVE")]
        assert [d.desktop_id for d in run.account()] == active
        assert {d.status for d in run.account()} == {"SUCCESS"}
        assert [d.desktop_id for d in client.iter_desktops(is_share_desktop=True)] == active
        assert all(d.share_resource_sku == "sku.collab" for d in client.iter_desktops(is_share_desktop=True))
        with pytest.raises(hw.ConfigurationError):
            client.delete_many(where={"status": "ACTIVE"}, journal=tmp_path / "add.jsonl")
        list(client.delete_many(where={"is_share_desktop": True}, wait=True))
        assert sim.desktops() == before
        with pytest.raises(hw.InvalidRequestError) as refused:
            client.add_many(active[:1])
        assert refused.value.field == "sub_resource_sku"


def test_a_job_shows_every_sub_job_field_the_service_reports() -> None:
    with hw.Simulator(job_duration=0) as sim:
        client = client_of(sim)
        deleted = client.delete_desktop_sub_resources(sim.desktop_ids[:2])
        job = client.wait_job(deleted.job_id, timeout=10)
        for sub in job.sub_jobs:
            assert sub.process == 100 and sub.job_id == deleted.job_id
            assert sub.desktop_id in sim.desktop_ids[:2]
            assert sub.host is None and sub.attach_user is None, "left out by the simulator: None"


def test_a_runs_desktops_done_counts_every_desktop_once_by_its_end() -> None:
    with hw.Simulator(desktops=230, shared_fraction=1.0, job_duration=0.3) as sim:
        client = client_of(sim)
        run = client.delete_many(sorted(sim.desktops()), wait=True)
        assert run.desktops_done == 0
        seen = []
        for _ in run:
            seen.append(run.desktops_done)
        assert seen == sorted(seen) and seen[-1] == 230
