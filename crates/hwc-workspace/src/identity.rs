//! Who a call is made as: the keys that sign it and the project it names, each either known
//! when the client was built or learnt on first use (keys from the instance metadata service,
//! the project id from IAM) and kept for the client's life.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use hwc_sign::Credentials;
use time::OffsetDateTime;

use crate::error::Error;
use crate::iam::Lookup;
use crate::metadata::MetadataCredentials;

/// The keys and the project id of one call.
pub(crate) type Resolved = (Arc<Credentials>, Arc<str>);

/// Where the keys come from.
pub(crate) enum CredentialSource {
    /// Given, or found in the environment or the credentials file.
    Static(Arc<Credentials>),
    /// The instance metadata service, refreshed before they expire.
    Metadata(Box<MetadataCredentials>),
}

/// Where the project id comes from.
pub(crate) enum ProjectSource {
    /// Given, or found in the environment or the credentials file.
    Known(Arc<str>),
    /// Looked up through IAM, once per access key.
    Lookup { lookup: Lookup, found: tokio::sync::Mutex<HashMap<String, Arc<str>>>, last: Mutex<Option<Arc<str>>> },
}

/// The keys and project of a client.
pub(crate) struct Identity {
    pub(crate) credentials: CredentialSource,
    pub(crate) project: ProjectSource,
    /// What the builder read the keys from, for messages.
    pub(crate) source: String,
}

impl Identity {
    pub(crate) fn new(credentials: CredentialSource, project: ProjectSource, source: String) -> Self {
        Self { credentials, project, source }
    }

    /// The keys to sign with now.
    pub(crate) async fn credentials(&self) -> Result<Arc<Credentials>, Error> {
        match &self.credentials {
            CredentialSource::Static(credentials) => Ok(Arc::clone(credentials)),
            CredentialSource::Metadata(metadata) => metadata.current().await,
        }
    }

    /// The keys and the project id of a call, looking either up when needed.
    pub(crate) async fn resolve(
        &self,
        transport: &crate::transport::Transport,
        clock: fn() -> OffsetDateTime,
    ) -> Result<Resolved, Error> {
        let credentials = self.credentials().await?;
        let project = match &self.project {
            ProjectSource::Known(project) => Arc::clone(project),
            ProjectSource::Lookup { lookup, found, last } => {
                // Held across the lookup, so that concurrent first calls ask IAM once.
                let mut found = found.lock().await;
                match found.get(credentials.access_key()) {
                    Some(project) => Arc::clone(project),
                    None => {
                        let id = lookup.project_id(transport, &credentials, clock).await?;
                        let id = crate::model::check_project_id(&id).map_err(|_| {
                            crate::error::ConfigError::new(
                                crate::error::ConfigErrorKind::MissingProjectId,
                                format!("IAM answered a project id {id:?} that cannot be one"),
                            )
                        })?;
                        tracing::debug!(region = %lookup.region, project_id = %id, "project id looked up through IAM");
                        let project: Arc<str> = Arc::from(id);
                        found.insert(credentials.access_key().to_owned(), Arc::clone(&project));
                        *last.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&project));
                        project
                    }
                }
            }
        };
        Ok((credentials, project))
    }

    /// The project id, when known without asking anyone (given, or looked up already).
    pub(crate) fn known_project_id(&self) -> Option<Arc<str>> {
        match &self.project {
            ProjectSource::Known(project) => Some(Arc::clone(project)),
            ProjectSource::Lookup { last, .. } => last.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }

    /// Where the project id is looked up, when it is.
    pub(crate) fn lookup_endpoint(&self) -> Option<&str> {
        match &self.project {
            ProjectSource::Known(_) => None,
            ProjectSource::Lookup { lookup, .. } => Some(&lookup.iam_endpoint),
        }
    }

    /// The access key, when known without asking anyone.
    pub(crate) fn known_access_key(&self) -> Option<String> {
        match &self.credentials {
            CredentialSource::Static(credentials) => Some(credentials.access_key().to_owned()),
            CredentialSource::Metadata(metadata) => metadata.access_key(),
        }
    }

    /// What names the project in a bulk run's journal: its id when given, else where it is
    /// looked up (the same before and after the lookup, so a resumed run matches).
    pub(crate) fn project_key(&self) -> String {
        match &self.project {
            ProjectSource::Known(project) => project.to_string(),
            ProjectSource::Lookup { lookup, .. } => {
                format!("looked up for {} at {}", lookup.region, lookup.iam_endpoint)
            }
        }
    }
}
