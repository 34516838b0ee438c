//! The operations around the deletion against the simulator's inventory: `ListDesktops` with
//! every filter and paging (the core's pager, `Client::items`, reading each desktop once while
//! the inventory changes), `AddDesktopSubResources` and the deletion undoing each other, and
//! the sub-jobs' progress.

use std::collections::HashSet;
use std::time::Duration;

use hwc_workspace::{DeleteSubResources, Error, Input, OperationId, PageOptions};
use hwc_workspace_sim::{DEFAULT_SHARER_SKU, DESKTOP_SHARER, JobTiming, Simulator, State};
use serde_json::{Value, json};

async fn fleet(count: usize, shared_fraction: f64) -> Simulator {
    let state = State::demo().with_seeded_desktops(count, shared_fraction).expect("a valid seed");
    Simulator::builder().state(state).job_timing(JobTiming::instant()).start().await.expect("simulator starts")
}

fn filters(pairs: Value) -> Input {
    let mut input = Input::new();
    for (name, value) in pairs.as_object().expect("an object") {
        input.set(name.clone(), value.clone());
    }
    input
}

/// Every item of a listing, bounded in time.
async fn list_all(
    client: &hwc_workspace::Client,
    input: Input,
    options: PageOptions,
) -> (Vec<String>, hwc_workspace::ListingReport) {
    let mut items = client.items(OperationId::ListDesktops, input, options).expect("a listing");
    let mut ids = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(30), items.next_item()).await.expect("bounded") {
        ids.push(item.expect("an item")["desktop_id"].as_str().expect("an id").to_owned());
    }
    (ids, items.report().clone())
}

/// What two long id lists differ in, short enough to read in a failure.
fn difference(got: &[String], expected: &[String]) -> String {
    let got_set: HashSet<&String> = got.iter().collect();
    let expected_set: HashSet<&String> = expected.iter().collect();
    let missing: Vec<&&String> = expected_set.difference(&got_set).take(5).collect();
    let extra: Vec<&&String> = got_set.difference(&expected_set).take(5).collect();
    format!(
        "{} listed, {} expected; {} distinct; missing e.g. {missing:?}; extra e.g. {extra:?}",
        got.len(),
        expected.len(),
        got_set.len()
    )
}

fn shared_ids(sim: &Simulator) -> Vec<String> {
    sim.desktops().into_iter().filter(|d| d.has(DESKTOP_SHARER)).map(|d| d.id).collect()
}

#[tokio::test]
async fn a_listing_of_several_pages_returns_each_desktop_once_in_order() {
    let sim = fleet(2_500, 0.4).await;
    let client = sim.client_builder().build().unwrap();
    let expected = shared_ids(&sim);
    assert_eq!(expected.len(), 1_000);
    let (ids, report) = list_all(
        &client,
        filters(json!({"is_share_desktop": true})),
        PageOptions { page_size: Some(300), max_items: None },
    )
    .await;
    assert_eq!(ids, expected);
    assert_eq!(report.pages, 4, "ceil(1000 / 300) pages, and no page past the total");
    assert_eq!((report.first_total, report.last_total, report.repeated), (Some(1_000), Some(1_000), 0));
    assert!(!report.total_moved());

    // The whole inventory at the service's default page (1,000), and a listing cut short.
    let (all, report) = list_all(&client, Input::new(), PageOptions::default()).await;
    assert_eq!(all.len(), 2_500);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 2_500);
    assert_eq!(report.pages, 3);
    let requests = sim.request_count();
    let (first, report) =
        list_all(&client, Input::new(), PageOptions { page_size: Some(100), max_items: Some(250) }).await;
    assert_eq!(first, all[..250]);
    assert_eq!(report.pages, 3);
    assert_eq!(sim.request_count() - requests, 3, "no page is read past the items asked for");
}

#[tokio::test]
async fn desktops_that_leave_the_listing_while_it_is_paged_cost_no_other_desktop_its_place() {
    // Twenty pages: the pages asked for ahead of the one read (four at most) were asked for
    // before the change below, the later ones after it.
    let sim = fleet(4_000, 0.5).await;
    let client = sim.client_builder().build().unwrap();
    let expected = shared_ids(&sim);
    let mut items = client
        .items(
            OperationId::ListDesktops,
            filters(json!({"is_share_desktop": true})),
            PageOptions { page_size: Some(100), max_items: None },
        )
        .unwrap();
    let mut listed = Vec::new();
    while let Some(item) = items.next_item().await {
        let id = item.unwrap()["desktop_id"].as_str().unwrap().to_owned();
        listed.push(id);
        if listed.len() == 150 {
            // Half of what was read so far stops being shared: every unread desktop moves
            // 75 places towards the start, onto pages already read.
            let gone: Vec<String> = listed.iter().step_by(2).cloned().collect();
            client.delete_desktop_sub_resources(&DeleteSubResources::new(gone, DESKTOP_SHARER)).await.unwrap();
        }
    }
    assert!(
        listed == expected,
        "each desktop once, none lost, in the service's order: {}",
        difference(&listed, &expected)
    );
    let report = items.report();
    assert!(report.total_moved());
    assert_eq!((report.first_total, report.last_total), (Some(2000), Some(1925)));
    // The first page that shows the fall is read again from 75 places earlier (which page
    // that is depends on when the pages asked for ahead were answered, before the change or
    // after it): one page more than the twenty.
    assert!(report.pages > 20, "{report:?}");
}

#[tokio::test]
async fn a_desktop_that_leaves_before_it_is_read_is_not_listed_and_none_is_listed_twice() {
    let sim = fleet(600, 1.0).await;
    let client = sim.client_builder().build().unwrap();
    let all = shared_ids(&sim);
    let mut items = client
        .items(
            OperationId::ListDesktops,
            filters(json!({"is_share_desktop": true})),
            PageOptions { page_size: Some(50), max_items: None },
        )
        .unwrap();
    let mut listed = Vec::new();
    while let Some(item) = items.next_item().await {
        listed.push(item.unwrap()["desktop_id"].as_str().unwrap().to_owned());
        if listed.len() == 60 {
            let unread: Vec<String> = all[300..340].to_vec();
            client.delete_desktop_sub_resources(&DeleteSubResources::new(unread, DESKTOP_SHARER)).await.unwrap();
        }
    }
    let expected: Vec<String> = all.iter().filter(|id| !all[300..340].contains(id)).cloned().collect();
    assert!(listed == expected, "{}", difference(&listed, &expected));
}

#[tokio::test]
async fn every_filter_selects_what_it_names() {
    let sim = fleet(100, 0.25).await;
    let client = sim.client_builder().build().unwrap();
    let desktops = sim.desktops();
    let info: Vec<Value> = desktops.iter().map(|d| serde_json::to_value(d.info().unwrap()).unwrap()).collect();
    let expect = |keep: &dyn Fn(&Value) -> bool| -> Vec<String> {
        info.iter().filter(|d| keep(d)).map(|d| d["desktop_id"].as_str().unwrap().to_owned()).collect()
    };
    let cases: Vec<(Value, Vec<String>)> = vec![
        (json!({"is_share_desktop": true}), expect(&|d| d.get("share_resource_sku").is_some())),
        (json!({"is_share_desktop": false}), expect(&|d| d.get("share_resource_sku").is_none())),
        (json!({"status": "SHUTOFF"}), expect(&|d| d["status"] == "SHUTOFF")),
        (json!({"desktop_type": "SHARED,POOLED"}), expect(&|d| d["desktop_type"] == "SHARED")),
        (
            json!({"computer_name": "desktop-000001"}),
            expect(&|d| d["computer_name"].as_str().unwrap().contains("desktop-000001")),
        ),
        (
            json!({"user_name": ["user0000042", "user0000007"]}),
            expect(&|d| ["user0000042", "user0000007"].contains(&d["user_name"].as_str().unwrap())),
        ),
        (json!({"desktop_ip": "10.0.0.9"}), expect(&|d| d["ip_address"] == "10.0.0.9")),
        (json!({"subnet_id": "subnet-3"}), expect(&|d| d["subnet_id"] == "subnet-3")),
        (json!({"enterprise_project_id": "0"}), expect(&|d| d["enterprise_project_id"] == "0")),
        (json!({"tag": "team=team1"}), expect(&|d| d["tags"][0]["value"] == "team1")),
        (json!({"tag": "team=team1,owner=x"}), vec![]),
        (
            json!({"desktop_id": [info[3]["desktop_id"], info[77]["desktop_id"], "no-such-desktop"]}),
            vec![
                info[3]["desktop_id"].as_str().unwrap().to_owned(),
                info[77]["desktop_id"].as_str().unwrap().to_owned(),
            ],
        ),
        (
            json!({"status": "ACTIVE", "is_share_desktop": true}),
            expect(&|d| d["status"] == "ACTIVE" && d.get("share_resource_sku").is_some()),
        ),
        (json!({"pool_id": "pool-1"}), vec![]),
    ];
    for (query, expected) in cases {
        assert!(
            !expected.is_empty() || query.get("tag").is_some() || query.get("pool_id").is_some(),
            "{query}: the case selects something"
        );
        let (ids, _) =
            list_all(&client, filters(query.clone()), PageOptions { page_size: Some(7), max_items: None }).await;
        assert_eq!(ids, expected, "{query}");
        // One page as the service answers it: the total counts every match.
        let page = client.call(OperationId::ListDesktops, &filters(query.clone())).await.unwrap();
        assert_eq!(page.value["total_count"], json!(expected.len()), "{query}");
    }
}

#[tokio::test]
async fn adding_then_deleting_leaves_the_inventory_as_it_started_and_the_listing_follows() {
    let sim = fleet(40, 0.0).await;
    let client = sim.client_builder().build().unwrap();
    let before = sim.desktops();
    let chosen: Vec<String> = before.iter().step_by(3).map(|d| d.id.clone()).collect();
    let mut add = Input::new();
    add.set("desktop_ids", &chosen).set("sub_resource_sku", "sku.collab.1");
    let answer = client.call(OperationId::AddDesktopSubResources, &add).await.unwrap();
    let job = client.show_job(answer.value["job_id"].as_str().unwrap()).await.unwrap();
    assert_eq!(job.job_type.as_deref(), Some(hwc_workspace_sim::ADD_JOB_TYPE));
    let (shared, _) = list_all(&client, filters(json!({"is_share_desktop": true})), PageOptions::default()).await;
    assert_eq!(shared, chosen);
    let listed = client.call(OperationId::ListDesktops, &filters(json!({"desktop_id": [chosen[0]]}))).await.unwrap();
    assert_eq!(listed.value["desktops"][0]["share_resource_sku"], "sku.collab.1");
    assert_eq!(sim.jobs().last().unwrap().body()["sub_resource_sku"], "sku.collab.1");

    client.delete_desktop_sub_resources(&DeleteSubResources::new(chosen, DESKTOP_SHARER)).await.unwrap();
    assert_eq!(sim.desktops(), before, "add, then delete: the inventory as it started");
    let (shared, _) = list_all(&client, filters(json!({"is_share_desktop": true})), PageOptions::default()).await;
    assert!(shared.is_empty());
}

#[tokio::test]
async fn a_failing_desktop_keeps_its_resource_and_a_seeded_sharer_reports_the_default_sku() {
    let sim = fleet(10, 1.0).await;
    let ids = shared_ids(&sim);
    sim.set_faults(hwc_workspace_sim::Faults::none().with_failing_desktops([ids[1].clone()]));
    let client = sim.client_builder().build().unwrap();
    let first = client.call(OperationId::ListDesktops, &filters(json!({"desktop_id": [ids[0]]}))).await.unwrap();
    assert_eq!(first.value["desktops"][0]["share_resource_sku"], DEFAULT_SHARER_SKU);
    client.delete_desktop_sub_resources(&DeleteSubResources::new(&ids[..2], DESKTOP_SHARER)).await.unwrap();
    let (shared, _) = list_all(&client, filters(json!({"is_share_desktop": true})), PageOptions::default()).await;
    assert_eq!(shared, ids[1..], "the failing desktop is still shared");
}

#[tokio::test]
async fn an_ended_sub_job_reports_its_job_and_a_progress_of_100() {
    // The progress while a job runs is tested on the job's rendering at chosen moments
    // (`jobs::tests`); here, what a client reads of an ended one.
    let sim = Simulator::builder().job_timing(JobTiming::instant()).start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let deleted = client
        .delete_desktop_sub_resources(&DeleteSubResources::new(&sim.desktop_ids()[..2], DESKTOP_SHARER))
        .await
        .unwrap();
    let job = client.show_job(&deleted.job_id).await.unwrap();
    assert_eq!(job.sub_jobs.len(), 2);
    for sub in &job.sub_jobs {
        assert_eq!(sub.process, Some(100));
        assert_eq!(sub.job_id.as_deref(), Some(deleted.job_id.as_str()));
    }
}

#[tokio::test]
async fn the_pager_refuses_what_cannot_be_paged() {
    let sim = Simulator::start().await.unwrap();
    let client = sim.client_builder().build().unwrap();
    let refused = |result: Result<hwc_workspace::Items, Error>| match result {
        Err(Error::InvalidInput(e)) => e.name().to_owned(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let list = OperationId::ListDesktops;
    assert_eq!(
        refused(client.items(list, Input::new(), PageOptions { page_size: Some(0), max_items: None })),
        "page_size"
    );
    assert_eq!(
        refused(client.items(list, Input::new(), PageOptions { page_size: Some(1_001), max_items: None })),
        "page_size"
    );
    assert_eq!(refused(client.items(list, filters(json!({"limit": 0})), PageOptions::default())), "limit");
    assert_eq!(refused(client.items(list, filters(json!({"status": 5})), PageOptions::default())), "status");
    assert_eq!(refused(client.items(OperationId::ShowJob, Input::new(), PageOptions::default())), "operation");
    assert_eq!(sim.request_count(), 0, "nothing is sent");
    let mut none = client.items(list, Input::new(), PageOptions { page_size: None, max_items: Some(0) }).unwrap();
    assert!(none.next_item().await.is_none());
    assert_eq!(sim.request_count(), 0);
}

mod selections {
    use std::collections::HashSet;
    use std::time::Duration;

    use hwc_workspace::bulk::{BulkOptions, BulkPlan};
    use hwc_workspace::selection::filters_from_text;
    use hwc_workspace::{DeleteSubResources, Error, Input, OperationId};
    use hwc_workspace_sim::DESKTOP_SHARER;

    use super::{fleet, shared_ids};

    #[tokio::test]
    async fn a_resumed_selection_acts_on_the_ids_its_journal_recorded_not_on_a_new_listing() {
        let sim = super::fleet(450, 1.0).await;
        let client = sim.client_builder().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.jsonl");
        let filters = filters_from_text(&["is_share_desktop=true", "status=ACTIVE"]).unwrap();
        let selection = client.select(&filters, Some(&journal)).await.unwrap();
        let selected = selection.desktop_ids.clone();
        assert!(!selection.from_journal);
        assert_eq!(selected.len(), 270, "the ACTIVE three fifths of the fleet");
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.journal = Some(journal.clone());
        options.concurrency = 1;
        let mut run = client.delete_many(BulkPlan::new(&selected, options.clone()).unwrap()).unwrap();
        // Stopped after its first batch, as Ctrl-C stops the CLI.
        let first = tokio::time::timeout(Duration::from_secs(20), run.next()).await.unwrap().unwrap();
        run.canceller().cancel();
        while tokio::time::timeout(Duration::from_secs(20), run.next()).await.unwrap().is_some() {}
        drop(run);
        assert_eq!(first.desktop_ids.len(), 100);

        // The fleet changes meanwhile: ten desktops of the first batch match the filters again
        // (a new listing would take them), ten not yet acted on no longer do.
        let mut add = Input::new();
        add.set("desktop_ids", &selected[..10]).set("sub_resource_sku", "sku.other");
        client.call(OperationId::AddDesktopSubResources, &add).await.unwrap();
        client
            .delete_desktop_sub_resources(&DeleteSubResources::new(&selected[200..210], DESKTOP_SHARER))
            .await
            .unwrap();

        let again = client.select(&filters, Some(&journal)).await.unwrap();
        assert!(again.from_journal);
        assert_eq!(again.desktop_ids, selected, "the journal's ids, not a new listing");
        let requests = sim.request_count();
        let mut run = client.delete_many(BulkPlan::new(&again.desktop_ids, options).unwrap()).unwrap();
        while tokio::time::timeout(Duration::from_secs(20), run.next()).await.unwrap().is_some() {}
        assert_eq!(sim.request_count() - requests, 2, "only the two batches the first run did not send");
        let resumed: Vec<String> =
            sim.jobs().iter().rev().take(2).rev().flat_map(|job| job.desktop_ids.clone()).collect();
        assert_eq!(resumed, selected[100..], "the journal's remaining ids, the ten that left the listing included");
        let left: HashSet<String> = shared_ids(&sim).into_iter().collect();
        let expected_left: HashSet<String> = selected[..10].iter().cloned().collect();
        assert_eq!(
            left.intersection(&selected.iter().cloned().collect()).cloned().collect::<HashSet<_>>(),
            expected_left,
            "of the selected desktops, only those shared again after their batch keep a sharer"
        );
    }

    #[tokio::test]
    async fn a_journal_of_another_selection_or_of_given_ids_is_refused_untouched() {
        let sim = fleet(30, 0.5).await;
        let client = sim.client_builder().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("run.jsonl");
        let shared = filters_from_text(&["is_share_desktop=true"]).unwrap();
        client.select(&shared, Some(&journal)).await.unwrap();
        let before = std::fs::read(&journal).unwrap();
        let other = filters_from_text(&["status=SHUTOFF"]).unwrap();
        match client.select(&other, Some(&journal)).await {
            Err(Error::Configuration(e)) => assert!(e.to_string().contains("holds another selection"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(std::fs::read(&journal).unwrap(), before);

        let ids_journal = dir.path().join("ids.jsonl");
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.journal = Some(ids_journal.clone());
        let mut run = client.delete_many(BulkPlan::new(&shared_ids(&sim)[..3], options).unwrap()).unwrap();
        while run.next().await.is_some() {}
        drop(run);
        let before = std::fs::read(&ids_journal).unwrap();
        assert!(matches!(client.select(&shared, Some(&ids_journal)).await, Err(Error::Configuration(_))));
        assert_eq!(std::fs::read(&ids_journal).unwrap(), before);

        // Not a journal at all: refused, untouched.
        let notes = dir.path().join("notes.txt");
        std::fs::write(&notes, "sk = secret\nmore\n").unwrap();
        assert!(matches!(client.select(&shared, Some(&notes)).await, Err(Error::Configuration(_))));
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "sk = secret\nmore\n");
    }

    #[tokio::test]
    async fn filters_are_the_listings_query_parameters_checked_before_anything_is_sent() {
        let sim = fleet(5, 1.0).await;
        let client = sim.client_builder().build().unwrap();
        let field = |pairs: &[&str]| match filters_from_text(pairs) {
            Err(Error::InvalidInput(e)) => e.name().to_owned(),
            other => panic!("{pairs:?}: expected a refusal, got {other:?}"),
        };
        assert_eq!(field(&[]), "where");
        assert_eq!(field(&["colour=red"]), "where");
        assert_eq!(field(&["offset=3"]), "where", "the pager's own");
        assert_eq!(field(&["is_share_desktop"]), "where");
        assert_eq!(field(&["is_share_desktop=maybe"]), "is_share_desktop");
        assert_eq!(field(&["status=ACTIVE", "status=ERROR"]), "status");
        let ids: Vec<String> = (0..101).map(|i| format!("d{i}")).collect();
        assert_eq!(field(&[&format!("desktop_id={}", ids.join(","))]), "desktop_id");
        let listed = filters_from_text(&["desktop_id=a,b", "desktop_id=c", "domain_status=2"]).unwrap();
        assert_eq!(listed.get("desktop_id"), Some(&serde_json::json!(["a", "b", "c"])));
        assert_eq!(listed.get("domain_status"), Some(&serde_json::json!(2)));
        assert!(matches!(client.select(&Input::new(), None).await, Err(Error::InvalidInput(_))));
        assert_eq!(sim.request_count(), 0);
    }
}

mod unknown_desktops {
    use std::time::Duration;

    use hwc_workspace::WaitOptions;
    use hwc_workspace::bulk::{BatchResult, BulkOptions, BulkPlan, DesktopStatus};
    use hwc_workspace_sim::{DESKTOP_SHARER, JobTiming, Simulator, State};

    async fn fleet_of(count: usize) -> (Simulator, Vec<String>) {
        let state = State::demo().with_seeded_desktops(count, 1.0).unwrap();
        let sim = Simulator::builder().state(state).job_timing(JobTiming::instant()).start().await.unwrap();
        let ids = sim.desktops().into_iter().map(|d| d.id).collect();
        (sim, ids)
    }

    fn options(wait: bool) -> BulkOptions {
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.concurrency = 1;
        if wait {
            options.wait = Some(WaitOptions {
                timeout: Duration::from_secs(10),
                poll_interval: Duration::from_millis(10),
                max_poll_interval: Duration::from_millis(50),
            });
        }
        options
    }

    async fn run(client: &hwc_workspace::Client, ids: &[String], options: BulkOptions) -> hwc_workspace::bulk::BulkRun {
        let mut run = client.delete_many(BulkPlan::new(ids, options).unwrap()).unwrap();
        while tokio::time::timeout(Duration::from_secs(30), run.next()).await.unwrap().is_some() {}
        run
    }

    fn status_of(run: &hwc_workspace::bulk::BulkRun, id: &str) -> DesktopStatus {
        run.account().into_iter().find(|d| d.desktop_id == id).unwrap().status
    }

    #[tokio::test]
    async fn a_batch_refused_for_unknown_desktops_sends_the_known_ones_and_accounts_the_others_not_found() {
        for wait in [false, true] {
            let (sim, mut ids) = fleet_of(10).await;
            let client = sim.client_builder().build().unwrap();
            let unknown = ["gone-1".to_owned(), "gone-2".to_owned(), "gone-3".to_owned()];
            ids.splice(4..4, unknown.iter().cloned());
            let dir = tempfile::tempdir().unwrap();
            let mut with_journal = options(wait);
            with_journal.journal = Some(dir.path().join("run.jsonl"));
            let done = run(&client, &ids, with_journal.clone()).await;
            let account = done.account();
            assert_eq!(account.len(), 13, "every desktop, once");
            for id in &unknown {
                assert_eq!(status_of(&done, id), DesktopStatus::NotFound);
            }
            let known = if wait { DesktopStatus::Success } else { DesktopStatus::Accepted };
            assert!(
                account.iter().filter(|d| !unknown.contains(&d.desktop_id)).all(|d| d.status == known),
                "{account:?}"
            );
            let jobs = sim.jobs();
            assert_eq!(jobs.len(), 1);
            assert!(jobs[0].desktop_ids.iter().all(|id| !unknown.contains(id)) && jobs[0].desktop_ids.len() == 10);
            assert!(sim.desktops().iter().all(|d| !d.has(DESKTOP_SHARER)));
            let reason = account.iter().find(|d| d.desktop_id == "gone-1").unwrap().fail_reason.clone().unwrap();
            assert!(reason.contains("does not know this desktop"), "{reason}");

            // Resumed: the same account from the journal, nothing sent.
            let requests = sim.request_count();
            let again = run(&client, &ids, with_journal).await;
            assert_eq!(again.account(), account, "wait={wait}");
            assert_eq!(sim.request_count(), requests, "wait={wait}: nothing sent again");
        }
    }

    #[tokio::test]
    async fn a_batch_of_unknown_desktops_only_is_refused_with_each_not_found_and_the_split_can_be_turned_off() {
        let (sim, ids) = fleet_of(3).await;
        let client = sim.client_builder().build().unwrap();
        let gone = vec!["gone-a".to_owned(), "gone-b".to_owned()];
        let dir = tempfile::tempdir().unwrap();
        let mut journaled = options(false);
        journaled.journal = Some(dir.path().join("run.jsonl"));
        let done = run(&client, &gone, journaled.clone()).await;
        assert!(done.account().iter().all(|d| d.status == DesktopStatus::NotFound));
        assert!(sim.jobs().is_empty());
        assert_eq!(sim.request_count(), 2, "the refused batch and the listing; nothing is sent again");
        let resumed = run(&client, &gone, journaled).await;
        assert_eq!(resumed.account(), done.account(), "a resumed run reports them as they were");
        assert_eq!(sim.request_count(), 2);

        let mut plain = options(false);
        plain.split_not_found = false;
        let mut mixed = ids.clone();
        mixed.push("gone-c".to_owned());
        let mut run = client.delete_many(BulkPlan::new(&mixed, plain).unwrap()).unwrap();
        let outcome = run.next().await.unwrap();
        assert!(matches!(outcome.result, BatchResult::Rejected(_)));
        assert!(
            run.account().iter().all(|d| d.status == DesktopStatus::Failed),
            "the whole batch, as the service answered"
        );
        assert!(sim.jobs().is_empty());
    }
}

mod adding {
    use std::time::Duration;

    use hwc_workspace::bulk::{BulkOptions, BulkPlan, DesktopStatus};
    use hwc_workspace::{Error, WaitOptions};
    use hwc_workspace_sim::{ADD_JOB_TYPE, DESKTOP_SHARER, JobTiming, Simulator, State};

    #[tokio::test]
    async fn a_bulk_run_adds_then_one_deletes_and_a_journal_of_one_never_resumes_the_other() {
        let state = State::demo().with_seeded_desktops(230, 0.0).unwrap();
        let sim = Simulator::builder().state(state).job_timing(JobTiming::instant()).start().await.unwrap();
        let client = sim.client_builder().build().unwrap();
        let before = sim.desktops();
        let ids: Vec<String> = before.iter().map(|d| d.id.clone()).collect();
        let dir = tempfile::tempdir().unwrap();
        let wait = WaitOptions { poll_interval: Duration::from_millis(10), ..WaitOptions::default() };

        let mut adding = BulkOptions::adding("sku.collab");
        adding.wait = Some(wait.clone());
        adding.journal = Some(dir.path().join("run.jsonl"));
        let mut run = client.delete_many(BulkPlan::new(&ids, adding).unwrap()).unwrap();
        while tokio::time::timeout(Duration::from_secs(30), run.next()).await.unwrap().is_some() {}
        assert!(run.account().iter().all(|d| d.status == DesktopStatus::Success));
        assert!(sim.jobs().iter().all(|job| job.sku.as_deref() == Some("sku.collab")));
        assert_eq!(sim.jobs().len(), 3, "batches of 100");
        let job = client.show_job(&sim.jobs()[0].job_id).await.unwrap();
        assert_eq!(job.job_type.as_deref(), Some(ADD_JOB_TYPE));
        assert!(sim.desktops().iter().all(|d| d.has(DESKTOP_SHARER)));

        let mut deleting = BulkOptions::new(DESKTOP_SHARER);
        deleting.journal = Some(dir.path().join("run.jsonl"));
        match client.delete_many(BulkPlan::new(&ids, deleting.clone()).unwrap()) {
            Err(Error::Configuration(e)) => assert!(e.to_string().contains("another run"), "{e}"),
            other => panic!("expected the journal refused, got {:?}", other.map(|_| ())),
        }
        deleting.journal = None;
        deleting.wait = Some(wait);
        let mut run = client.delete_many(BulkPlan::new(&ids, deleting).unwrap()).unwrap();
        while tokio::time::timeout(Duration::from_secs(30), run.next()).await.unwrap().is_some() {}
        assert_eq!(sim.desktops(), before, "added, then deleted: as it started");

        // A purchase without its SKU is refused before anything is sent, naming the field.
        let requests = sim.request_count();
        let mut missing = BulkOptions::adding("x");
        missing.extra = hwc_workspace::Input::new();
        match BulkPlan::new(&ids, missing) {
            Err(Error::InvalidInput(e)) => assert_eq!(e.name(), "sub_resource_sku"),
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert_eq!(sim.request_count(), requests);
    }
}

mod progress {
    use std::time::Duration;

    use hwc_workspace::WaitOptions;
    use hwc_workspace::bulk::{BulkOptions, BulkPlan};
    use hwc_workspace_sim::{DESKTOP_SHARER, JobTiming, Simulator, State};

    #[tokio::test]
    async fn a_runs_progress_counts_reported_batches_and_followed_jobs_and_never_falls() {
        let state = State::demo().with_seeded_desktops(250, 1.0).unwrap();
        let timing = JobTiming { waiting: Duration::from_millis(50), running: Duration::from_millis(400) };
        let sim = Simulator::builder().state(state).job_timing(timing).start().await.unwrap();
        let client = sim.client_builder().build().unwrap();
        let ids: Vec<String> = sim.desktops().into_iter().map(|d| d.id).collect();
        let mut options = BulkOptions::new(DESKTOP_SHARER);
        options.wait = Some(WaitOptions {
            timeout: Duration::from_secs(20),
            poll_interval: Duration::from_millis(20),
            max_poll_interval: Duration::from_millis(40),
        });
        let mut run = client.delete_many(BulkPlan::new(&ids, options).unwrap()).unwrap();
        let progress = run.progress();
        assert_eq!(progress.desktops(), 0);
        let sampler = {
            let progress = progress.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for _ in 0..400 {
                    seen.push(progress.desktops());
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                seen
            })
        };
        while tokio::time::timeout(Duration::from_secs(30), run.next()).await.unwrap().is_some() {}
        assert_eq!(progress.desktops(), 250, "every desktop, once");
        let seen = sampler.await.unwrap();
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "never falls: {seen:?}");
        assert!(seen.iter().all(|n| *n <= 250));
    }
}
