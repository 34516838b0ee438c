//! The spec's open enums (`SubResourceType`, `JobStatus`): the generated types use them in
//! place of typify's closed enums (`hwc-workspace-codegen` replaces them with
//! `crate::SubResourceType` and `crate::JobStatus`), so they sit at the bottom with those types,
//! below the errors and the job reports that speak of a job's status.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An enum whose list of values is open: the known ones are variants, any other string is
/// kept in `Other` and sent back unchanged, so values the service adds later work without an
/// SDK upgrade.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
            /// A value this SDK does not know yet, kept as is.
            Other(String),
        }

        impl $name {
            /// The value as the API writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $($text => Self::$variant,)+
                    _ => Self::Other(value),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(value.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::from)
            }
        }
    };
}

open_enum! {
    /// The kind of depended resource to delete; `DESKTOP_SHARER` is the documented value.
    SubResourceType {
        /// Desktop collaboration resources.
        DesktopSharer = "DESKTOP_SHARER",
    }
}

impl SubResourceType {
    /// The documented value, as text (for `match` arms and constants elsewhere).
    pub const DESKTOP_SHARER: &'static str = "DESKTOP_SHARER";
}

open_enum! {
    /// The status of a job or sub-job.
    JobStatus {
        /// Accepted, not started yet.
        Waiting = "WAITING",
        /// In progress.
        Running = "RUNNING",
        /// Ended well.
        Success = "SUCCESS",
        /// Ended with a failure; see the failed sub-jobs.
        Failed = "FAILED",
    }
}

impl JobStatus {
    /// `SUCCESS` or `FAILED`: the job will not change any more.
    pub fn is_finished(&self) -> bool {
        matches!(self, Self::Success | Self::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_status_is_open_and_knows_when_it_is_final() {
        assert_eq!(JobStatus::from("RUNNING"), JobStatus::Running);
        assert!(JobStatus::Success.is_finished() && JobStatus::Failed.is_finished());
        assert!(!JobStatus::Waiting.is_finished());
        let odd: JobStatus = serde_json::from_str("\"PAUSED\"").unwrap();
        assert_eq!((odd.as_str(), odd.is_finished()), ("PAUSED", false));
    }

    #[test]
    fn sub_resource_type_is_open() {
        assert_eq!(SubResourceType::from("DESKTOP_SHARER"), SubResourceType::DesktopSharer);
        let other = SubResourceType::from("FUTURE_TYPE");
        assert_eq!(other.as_str(), "FUTURE_TYPE");
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"FUTURE_TYPE\"");
        let back: SubResourceType = serde_json::from_str("\"DESKTOP_SHARER\"").unwrap();
        assert_eq!(back, SubResourceType::DesktopSharer);
    }
}
