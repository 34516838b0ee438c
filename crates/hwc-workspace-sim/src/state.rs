//! What the simulator knows: its project, desktops and keys (seeded from the demo or a JSON
//! file), and the jobs that successful calls recorded.

use std::collections::HashSet;
use std::path::Path;

use hwc_sign::Credentials;
use hwc_workspace::types::SimpleDesktopInfo;
use serde::Deserialize;
use time::OffsetDateTime;

/// The access key of the demo account; it may delete sub-resources.
pub const DEMO_AK: &str = "HPUASIMDEMO000000001";
/// The secret key of [`DEMO_AK`]. Public on purpose: the simulator only runs on loopback.
pub const DEMO_SK: &str = "SimDemoSecretKey00000000000000000000001";
/// The demo project id.
pub const DEMO_PROJECT_ID: &str = "5e1a0000000000000000000000000001";
/// A second demo key that authenticates but lacks the permission, so every call answers 403.
pub const DEMO_DENIED_AK: &str = "HPUASIMDENIED0000001";
/// The secret key of [`DEMO_DENIED_AK`].
pub const DEMO_DENIED_SK: &str = "SimDeniedSecretKey000000000000000000001";

/// The most desktops `--desktops` seeds: ten million, about 3 GB of simulator.
pub const MAX_SEEDED_DESKTOPS: usize = 10_000_000;

/// The largest state file read: about a million desktops.
pub const MAX_STATE_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The one sub-resource type the simulator supports (the documented one).
pub const DESKTOP_SHARER: &str = hwc_workspace::SubResourceType::DESKTOP_SHARER;
/// The IAM action the operation needs: the client's own constant.
pub use hwc_workspace::DELETE_SUB_RESOURCES_PERMISSION;
/// The IAM action `ListDesktops` needs.
pub const LIST_DESKTOPS_PERMISSION: &str = "workspace:desktops:list";
/// The IAM action `AddDesktopSubResources` needs.
pub const ADD_SUB_RESOURCES_PERMISSION: &str = "workspace:desktops:addSubResources";

/// Every demo desktop, in seeding order: the first five hold a `DESKTOP_SHARER`
/// sub-resource ([`DEMO_SHARER_DESKTOP_IDS`]), the last two hold none.
pub const DEMO_DESKTOP_IDS: [&str; 7] = [
    "d0000001-5e1a-4d00-8000-000000000001",
    "d0000002-5e1a-4d00-8000-000000000002",
    "d0000003-5e1a-4d00-8000-000000000003",
    "d0000004-5e1a-4d00-8000-000000000004",
    "d0000005-5e1a-4d00-8000-000000000005",
    "d0000006-5e1a-4d00-8000-000000000006",
    "d0000007-5e1a-4d00-8000-000000000007",
];

/// The demo desktops that start with a `DESKTOP_SHARER` sub-resource.
pub const DEMO_SHARER_DESKTOP_IDS: [&str; 5] =
    [DEMO_DESKTOP_IDS[0], DEMO_DESKTOP_IDS[1], DEMO_DESKTOP_IDS[2], DEMO_DESKTOP_IDS[3], DEMO_DESKTOP_IDS[4]];

/// The demo desktop ids as owned strings.
pub fn demo_desktop_ids() -> Vec<String> {
    DEMO_DESKTOP_IDS.iter().map(|id| (*id).to_owned()).collect()
}

/// The SKU a desktop's collaboration resource is reported with when nothing else set it
/// (the demo and seeded desktops); `AddDesktopSubResources` sets the one it was given.
pub const DEFAULT_SHARER_SKU: &str = "workspace.desktop.sharer";

/// A desktop and the sub-resources it holds now.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Desktop {
    /// The desktop id.
    pub id: String,
    /// Sub-resource types, e.g. `["DESKTOP_SHARER"]`.
    #[serde(default)]
    pub sub_resources: Vec<String>,
    /// What `ListDesktops` reports of it beside its id and collaboration resource: fields of
    /// the spec's `SimpleDesktopInfo` (checked against it when the state is loaded).
    #[serde(default)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl Desktop {
    /// A desktop holding these sub-resource types.
    pub fn new<I, S>(id: impl Into<String>, sub_resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            id: id.into(),
            sub_resources: sub_resources.into_iter().map(Into::into).collect(),
            details: serde_json::Map::new(),
        }
    }

    /// With `name` of its `SimpleDesktopInfo` set to `value`.
    #[must_use]
    pub fn with_detail(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    /// The desktop as `ListDesktops` reports it, in the spec's type: its details, its id, and
    /// `share_resource_sku` while it holds the collaboration resource.
    pub fn info(&self) -> Result<SimpleDesktopInfo, String> {
        let mut fields = self.details.clone();
        fields.insert("desktop_id".to_owned(), self.id.clone().into());
        let sku = fields.remove("share_resource_sku");
        if self.has(DESKTOP_SHARER) {
            let sku = sku.filter(|sku| sku.is_string()).unwrap_or_else(|| DEFAULT_SHARER_SKU.into());
            fields.insert("share_resource_sku".to_owned(), sku);
        }
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| e.to_string())
    }

    /// Seeded desktop number `n` (from 1) of a simulator started with `--desktops`: varied
    /// enough for every filter of `ListDesktops` to select some and not others.
    pub fn seeded(n: usize, shared: bool) -> Self {
        let statuses = ["ACTIVE", "ACTIVE", "ACTIVE", "SHUTOFF", "HIBERNATED"];
        let sub_resources: &[&str] = if shared { &[DESKTOP_SHARER] } else { &[] };
        Desktop::new(format!("d{n:07}-5e1a-4d00-8000-000000000000"), sub_resources.iter().copied())
            .with_detail("computer_name", format!("desktop-{n:07}"))
            .with_detail("user_name", format!("user{n:07}"))
            .with_detail("ip_address", format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255))
            .with_detail("status", statuses[n % statuses.len()])
            .with_detail("desktop_type", if n.is_multiple_of(10) { "SHARED" } else { "DEDICATED" })
            .with_detail("enterprise_project_id", "0")
            .with_detail("subnet_id", format!("subnet-{}", n % 4))
            .with_detail("created", "2026-01-02T03:04:05.000Z")
            .with_detail("tags", serde_json::json!([{"key": "team", "value": format!("team{}", n % 3)}]))
            .with_detail("in_maintenance_mode", false)
    }

    /// Whether it holds a sub-resource of this type.
    pub fn has(&self, sub_resource_type: &str) -> bool {
        self.sub_resources.iter().any(|s| s == sub_resource_type)
    }
}

/// An access key the simulator accepts, and the IAM actions it is allowed.
///
/// `Debug` shows the access key only (through [`Credentials`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The key's credentials (temporary ones carry their token).
    pub credentials: Credentials,
    /// IAM actions, e.g. `workspace:desktops:deleteSubResources`; a segment `*` matches any
    /// value (`workspace:*:*`, `*`).
    pub permissions: Vec<String>,
}

impl Key {
    /// A key allowed to delete sub-resources.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self {
            credentials: Credentials::new(access_key, secret_key),
            permissions: [DELETE_SUB_RESOURCES_PERMISSION, LIST_DESKTOPS_PERMISSION, ADD_SUB_RESOURCES_PERMISSION]
                .map(str::to_owned)
                .to_vec(),
        }
    }

    /// Temporary credentials: requests must carry this `X-Security-Token`.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = self.credentials.with_security_token(token);
        self
    }

    #[must_use]
    /// The IAM actions the key is allowed.
    pub fn with_permissions<I, S>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The access key.
    pub fn access_key(&self) -> &str {
        self.credentials.access_key()
    }

    /// Whether one of the key's permissions grants `action`.
    pub fn allows(&self, action: &str) -> bool {
        self.permissions.iter().any(|granted| action_matches(granted, action))
    }
}

/// `granted` matches `action` segment by segment (split at `:`), `*` matching any segment;
/// a lone `*` matches everything.
fn action_matches(granted: &str, action: &str) -> bool {
    if granted == "*" {
        return true;
    }
    let granted: Vec<&str> = granted.split(':').collect();
    let wanted: Vec<&str> = action.split(':').collect();
    granted.len() == wanted.len() && granted.iter().zip(&wanted).all(|(g, w)| *g == "*" || g.eq_ignore_ascii_case(w))
}

/// The seed of a simulator: its project, desktops and keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    /// The one project the simulator serves.
    pub project_id: String,
    /// The desktops, in order.
    pub desktops: Vec<Desktop>,
    /// The first key is the one the handle hands out ([`crate::Simulator::credentials`]).
    pub keys: Vec<Key>,
}

impl Default for State {
    fn default() -> Self {
        Self::demo()
    }
}

impl State {
    /// The demo: [`DEMO_PROJECT_ID`], the [`DEMO_DESKTOP_IDS`] (five with `DESKTOP_SHARER`,
    /// two without), the key [`DEMO_AK`] and the permission-less key [`DEMO_DENIED_AK`].
    pub fn demo() -> Self {
        Self { project_id: DEMO_PROJECT_ID.to_owned(), desktops: demo_desktops(), keys: demo_keys() }
    }

    /// With its desktops replaced by `count` seeded ones ([`Desktop::seeded`]), of which the
    /// fraction `shared_fraction` (0 to 1, spread evenly) holds a collaboration resource.
    pub fn with_seeded_desktops(mut self, count: usize, shared_fraction: f64) -> Result<Self, StateError> {
        if !(0.0..=1.0).contains(&shared_fraction) {
            return Err(StateError(format!("the shared fraction must be between 0 and 1, not {shared_fraction}")));
        }
        if count > MAX_SEEDED_DESKTOPS {
            return Err(StateError(format!("at most {MAX_SEEDED_DESKTOPS} desktops can be seeded, not {count}")));
        }
        // Desktop n is shared when the running count of shared desktops steps up at n.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
        let shared_before = |n: usize| (n as f64 * shared_fraction).floor() as usize;
        self.desktops = (1..=count).map(|n| Desktop::seeded(n, shared_before(n) > shared_before(n - 1))).collect();
        Ok(self)
    }

    /// Adds a key (builder style).
    #[must_use]
    pub fn with_key(mut self, key: Key) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds a desktop (builder style).
    #[must_use]
    pub fn with_desktop(mut self, desktop: Desktop) -> Self {
        self.desktops.push(desktop);
        self
    }

    /// Reads the JSON state format (see the crate README); absent parts fall back to the
    /// demo's.
    pub fn from_json(text: &str) -> Result<Self, StateError> {
        // The file is typed all the way down (no free-form value anywhere): nesting deeper
        // than the format's own four levels, an unknown key, or a key written twice
        // (`project_id` twice, or `Project_Id` beside it) is refused where it starts, so the
        // cost is linear in the file and nothing is merged or guessed. A BOM is skipped.
        let file: StateFile = serde_json::from_str(text.strip_prefix('\u{feff}').unwrap_or(text))
            .map_err(|e| StateError(format!("not a valid state file: {e}")))?;
        let state = Self {
            project_id: file.project_id.unwrap_or_else(|| DEMO_PROJECT_ID.to_owned()),
            desktops: file.desktops.unwrap_or_else(demo_desktops),
            keys: match file.keys {
                Some(keys) => keys.into_iter().map(KeyFile::into_key).collect(),
                None => demo_keys(),
            },
        };
        state.validate()?;
        Ok(state)
    }

    /// Reads a JSON state file (at most [`MAX_STATE_FILE_BYTES`], a regular file); see
    /// [`State::from_json`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, StateError> {
        let path = path.as_ref();
        let text = hwc_workspace::files::read_text_bounded(path, MAX_STATE_FILE_BYTES)
            .map_err(|e| StateError(format!("cannot read the state file {}: {e}", path.display())))?;
        Self::from_json(&text).map_err(|e| StateError(format!("{}: {}", path.display(), e.0)))
    }

    /// Checks what the server relies on: a usable project id, unique non-empty desktop ids
    /// and access keys, and at least one key.
    pub fn validate(&self) -> Result<(), StateError> {
        let project_ok = !self.project_id.is_empty()
            && self.project_id.len() <= 64
            && self.project_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !project_ok {
            return Err(StateError(format!(
                "project_id {:?} must be 1 to 64 letters, digits, '-' or '_'",
                self.project_id
            )));
        }
        let mut seen = HashSet::new();
        for desktop in &self.desktops {
            // The one id rule every front and the service apply: a desktop no request could
            // name would be a state the simulator cannot be driven through.
            if let Some(problem) = hwc_workspace::desktop_id_problem(&desktop.id) {
                return Err(StateError(format!(
                    "desktop id {:?} breaks the id rule ({}): {problem}",
                    desktop.id,
                    hwc_workspace::DESKTOP_ID_RULE
                )));
            }
            if !seen.insert(desktop.id.as_str()) {
                return Err(StateError(format!("desktop id {:?} appears twice", desktop.id)));
            }
            if let Err(problem) = desktop.info() {
                return Err(StateError(format!(
                    "the details of desktop {:?} are not a SimpleDesktopInfo of the spec: {problem}",
                    desktop.id
                )));
            }
        }
        if self.keys.is_empty() {
            return Err(StateError("at least one key is needed".to_owned()));
        }
        let mut seen = HashSet::new();
        for key in &self.keys {
            if key.access_key().is_empty() || key.credentials.expose_secret_key().is_empty() {
                return Err(StateError("every key needs a non-empty ak and sk".to_owned()));
            }
            if !seen.insert(key.access_key()) {
                return Err(StateError(format!("access key {:?} appears twice", key.access_key())));
            }
        }
        Ok(())
    }
}

/// The state file could not be read or is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StateError(pub(crate) String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    project_id: Option<String>,
    desktops: Option<Vec<Desktop>>,
    keys: Option<Vec<KeyFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    ak: String,
    sk: String,
    security_token: Option<String>,
    permissions: Option<Vec<String>>,
}

impl KeyFile {
    fn into_key(self) -> Key {
        let mut key = Key::new(self.ak, self.sk);
        if let Some(token) = self.security_token {
            key = key.with_security_token(token);
        }
        if let Some(permissions) = self.permissions {
            key = key.with_permissions(permissions);
        }
        key
    }
}

fn demo_desktops() -> Vec<Desktop> {
    DEMO_DESKTOP_IDS
        .iter()
        .map(|id| {
            let sub_resources: &[&str] = if DEMO_SHARER_DESKTOP_IDS.contains(id) { &[DESKTOP_SHARER] } else { &[] };
            let n = DEMO_DESKTOP_IDS.iter().position(|d| d == id).unwrap_or_default() + 1;
            Desktop::new(*id, sub_resources.iter().copied())
                .with_detail("computer_name", format!("demo-desktop-{n}"))
                .with_detail("user_name", format!("demo-user-{n}"))
                .with_detail("status", "ACTIVE")
                .with_detail("desktop_type", "DEDICATED")
        })
        .collect()
}

fn demo_keys() -> Vec<Key> {
    vec![Key::new(DEMO_AK, DEMO_SK), Key::new(DEMO_DENIED_AK, DEMO_DENIED_SK).with_permissions(Vec::<String>::new())]
}

/// A deletion the simulator accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The job id the deletion answered with.
    pub job_id: String,
    /// The desktop ids as the request listed them.
    pub desktop_ids: Vec<String>,
    /// The sub-resource type deleted.
    pub sub_resource_type: String,
    /// The order id, if one was given.
    pub order_id: Option<String>,
    /// For a purchase (`AddDesktopSubResources`), the SKU it added; `None` for a deletion.
    pub sku: Option<String>,
    /// When the simulator accepted the call, by its clock.
    pub created_at: OffsetDateTime,
    /// The `X-Request-Id` of the call.
    pub request_id: String,
    /// The access key that signed the call.
    pub access_key: String,
    /// The desktops that held the sub-resource and lost it; empty when the call repeated a
    /// deletion that had already happened.
    pub removed_from: Vec<String>,
    /// The desktops whose sub-job fails (fault injection); they keep their resource.
    pub failed_desktops: Vec<String>,
    /// The body fields the spec describes that have no member above, as received (a field
    /// added to the spec reaches the simulator here); [`Job::body`] has them all.
    pub other_fields: serde_json::Map<String, serde_json::Value>,
}

impl Job {
    /// The body fields kept in the members above, by their spec names; every other one is
    /// kept in [`Job::other_fields`].
    pub const MEMBER_FIELDS: [&'static str; 4] = ["desktop_ids", "sub_resource_type", "order_id", "sub_resource_sku"];

    /// Every body field of the request the spec describes, as received: what a test reads to
    /// see that a field reached the service.
    pub fn body(&self) -> serde_json::Map<String, serde_json::Value> {
        let [desktop_ids, sub_resource_type, order_id, sub_resource_sku] = Self::MEMBER_FIELDS;
        let mut body = serde_json::Map::new();
        body.insert(desktop_ids.to_owned(), self.desktop_ids.clone().into());
        match &self.sku {
            // A purchase names its SKU; the type is what the simulator made of it.
            Some(sku) => body.insert(sub_resource_sku.to_owned(), sku.clone().into()),
            None => body.insert(sub_resource_type.to_owned(), self.sub_resource_type.clone().into()),
        };
        if let Some(value) = &self.order_id {
            body.insert(order_id.to_owned(), value.clone().into());
        }
        body.extend(self.other_fields.clone());
        body
    }

    /// [`Job::body`] as JSON text.
    pub fn body_json(&self) -> String {
        serde_json::Value::Object(self.body()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_valid_and_consistent() {
        let demo = State::demo();
        assert_eq!(demo.validate(), Ok(()));
        let with_sharer: Vec<&str> =
            demo.desktops.iter().filter(|d| d.has(DESKTOP_SHARER)).map(|d| d.id.as_str()).collect();
        assert_eq!(with_sharer, DEMO_SHARER_DESKTOP_IDS);
        assert_eq!(demo.desktops.len(), DEMO_DESKTOP_IDS.len());
        assert!(demo.keys[0].allows(DELETE_SUB_RESOURCES_PERMISSION));
        assert!(!demo.keys[1].allows(DELETE_SUB_RESOURCES_PERMISSION));
    }

    #[test]
    fn permissions_match_by_segment() {
        let action = DELETE_SUB_RESOURCES_PERMISSION;
        for granted in ["*", "workspace:*:*", "workspace:desktops:*", action, "Workspace:Desktops:DeleteSubResources"] {
            assert!(action_matches(granted, action), "{granted}");
        }
        for granted in
            ["", "workspace:*", "workspace:desktops:list", "ecs:*:*", "workspace:desktops:deleteSubResources:x"]
        {
            assert!(!action_matches(granted, action), "{granted}");
        }
    }

    #[test]
    fn state_file_falls_back_to_the_demo_and_rejects_mistakes() {
        let state = State::from_json(
            r#"{"project_id":"p1","desktops":[{"id":"a","sub_resources":["DESKTOP_SHARER"]},{"id":"b"}]}"#,
        )
        .unwrap();
        assert_eq!(state.project_id, "p1");
        assert_eq!(state.desktops, vec![Desktop::new("a", [DESKTOP_SHARER]), Desktop::new("b", Vec::<String>::new())]);
        assert_eq!(state.keys, State::demo().keys);

        let state =
            State::from_json(r#"{"keys":[{"ak":"A","sk":"S","security_token":"T","permissions":[]}]}"#).unwrap();
        assert_eq!(state.keys[0].credentials.expose_security_token(), Some("T"));
        assert!(state.keys[0].permissions.is_empty());
        assert_eq!(
            State::from_json(r#"{"keys":[{"ak":"A","sk":"S"}]}"#).unwrap().keys[0].permissions,
            [DELETE_SUB_RESOURCES_PERMISSION, LIST_DESKTOPS_PERMISSION, ADD_SUB_RESOURCES_PERMISSION]
        );

        for (bad, why) in [
            ("{", "not a valid state file"),
            (r#"{"desktop":[]}"#, "unknown field"),
            (r#"{"project_id":"a/b"}"#, "project_id"),
            (r#"{"desktops":[{"id":"a"},{"id":"a"}]}"#, "appears twice"),
            (r#"{"desktops":[{"id":" "}]}"#, "it is blank"),
            (r#"{"desktops":[{"id":" a"}]}"#, "starts with whitespace"),
            (r#"{"desktops":[{"id":"a,b"}]}"#, "a comma"),
            (r#"{"desktops":[{"id":"a#b"}]}"#, "a `#`"),
            (r#"{"desktops":[{"id":"a\u0000b"}]}"#, "control character"),
            (r#"{"keys":[]}"#, "at least one key"),
            (r#"{"keys":[{"ak":"A","sk":""}]}"#, "non-empty"),
        ] {
            let error = State::from_json(bad).unwrap_err().to_string();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    /// Issue 22: hostile state files end within a bound, naming the file and where they
    /// leave the format;
    /// a BOM is skipped; a key written twice (or in another case) is refused, never merged.
    #[test]
    fn hostile_state_files_are_refused_quickly_naming_the_file() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("state.json");
        let shown = path.display().to_string();
        let mut many_keys = String::from("{");
        for index in 0..200_000 {
            many_keys.push_str(&format!("\"k{index}\":{index},"));
        }
        many_keys.push_str("\"project_id\":\"p\"}");
        for (what, text, expected) in [
            ("deep arrays", format!("{{\"desktops\":{}", "[".repeat(4_000_000)), "invalid type: sequence"),
            ("deep objects", format!("{{\"desktops\":{}", "{\"a\":".repeat(800_000)), "invalid type: map"),
            ("deep under an unknown key", format!("{{\"x\":{}", "[".repeat(4_000_000)), "unknown field `x`"),
            ("many keys", many_keys, "unknown field"),
            ("a key twice", r#"{"project_id":"p1","project_id":"p2"}"#.to_owned(), "duplicate field `project_id`"),
            (
                "a key in another case",
                r#"{"project_id":"p1","Project_Id":"p2"}"#.to_owned(),
                "unknown field `Project_Id`",
            ),
            ("a key of a key twice", r#"{"keys":[{"ak":"A","sk":"S","sk":"T"}]}"#.to_owned(), "duplicate field `sk`"),
        ] {
            std::fs::write(&path, &text).expect("written");
            let started = std::time::Instant::now();
            let (send, receive) = std::sync::mpsc::channel();
            let read = path.clone();
            std::thread::spawn(move || {
                let _ = send.send(State::from_file(&read));
            });
            let result = receive
                .recv_timeout(std::time::Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("{what}: not refused within 60 s"));
            eprintln!("{what} ({} bytes): {:?}", text.len(), started.elapsed());
            let error = result.expect_err(what).to_string();
            assert!(error.contains(&shown), "{what}: {error}");
            assert!(error.contains(expected), "{what}: {expected} missing from {error}");
        }
        std::fs::write(&path, "\u{feff}{\"project_id\":\"bom\"}").expect("written");
        assert_eq!(State::from_file(&path).expect("a BOM is skipped").project_id, "bom");
    }

    #[test]
    fn a_missing_file_names_its_path() {
        let error = State::from_file("/nonexistent/state.json").unwrap_err().to_string();
        assert!(error.contains("/nonexistent/state.json"), "{error}");
    }
}
