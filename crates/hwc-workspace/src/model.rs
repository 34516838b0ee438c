//! The operation's input and output as users see them, and the checks made before sending.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, InvalidInput};

/// Most desktop ids one call takes.
pub const MAX_DESKTOP_IDS: usize = 100;
/// Longest desktop id, sub-resource type and order id, in characters.
pub const MAX_VALUE_CHARS: usize = 255;

/// The kind of depended resource to delete.
///
/// An open enum: `DESKTOP_SHARER` is the documented value; any other string is kept and sent
/// unchanged, so a type the service adds later works without an SDK upgrade.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SubResourceType {
    /// Desktop collaboration resources.
    DesktopSharer,
    /// A value this SDK does not know yet, sent as is.
    Other(String),
}

impl SubResourceType {
    pub const DESKTOP_SHARER: &'static str = "DESKTOP_SHARER";

    pub fn as_str(&self) -> &str {
        match self {
            Self::DesktopSharer => Self::DESKTOP_SHARER,
            Self::Other(value) => value,
        }
    }
}

impl From<&str> for SubResourceType {
    fn from(value: &str) -> Self {
        if value == Self::DESKTOP_SHARER { Self::DesktopSharer } else { Self::Other(value.to_owned()) }
    }
}

impl From<String> for SubResourceType {
    fn from(value: String) -> Self {
        if value == Self::DESKTOP_SHARER { Self::DesktopSharer } else { Self::Other(value) }
    }
}

impl std::str::FromStr for SubResourceType {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(value.into())
    }
}

impl fmt::Display for SubResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SubResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

impl Serialize for SubResourceType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SubResourceType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}

/// The input of `DeleteDesktopSubResources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteSubResources {
    pub desktop_ids: Vec<String>,
    pub sub_resource_type: SubResourceType,
    pub order_id: Option<String>,
}

impl DeleteSubResources {
    pub fn new<I, S>(desktop_ids: I, sub_resource_type: impl Into<SubResourceType>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            desktop_ids: desktop_ids.into_iter().map(Into::into).collect(),
            sub_resource_type: sub_resource_type.into(),
            order_id: None,
        }
    }

    #[must_use]
    pub fn order_id(mut self, order_id: impl Into<String>) -> Self {
        self.order_id = Some(order_id.into());
        self
    }

    /// Checks the documented limits, so that a bad call fails here, naming the field, and
    /// never reaches the service: 1 to 100 ids, each 1 to 255 characters and not blank; a
    /// type that is not blank and at most 255 characters; an order id of at most 255.
    pub fn validate(&self) -> Result<(), Error> {
        let count = self.desktop_ids.len();
        if count == 0 || count > MAX_DESKTOP_IDS {
            return Err(InvalidInput::new(
                "desktop_ids",
                format!("1 to {MAX_DESKTOP_IDS} desktop ids"),
                format!("{count}"),
            )
            .into());
        }
        for (index, id) in self.desktop_ids.iter().enumerate() {
            check_text(&format!("desktop_ids[{index}]"), id, true)?;
        }
        check_text("sub_resource_type", self.sub_resource_type.as_str(), true)?;
        if let Some(order_id) = &self.order_id {
            check_text("order_id", order_id, false)?;
        }
        Ok(())
    }

    /// The generated request body; validates first.
    pub(crate) fn to_body(&self) -> Result<crate::types::DeleteDesktopSubResourcesRequest, Error> {
        self.validate()?;
        let desktop_ids = self
            .desktop_ids
            .iter()
            .map(|id| id.as_str().try_into())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e: crate::types::error::ConversionError| InvalidInput::new("desktop_ids", "valid desktop ids", e.to_string()))?;
        let order_id = match &self.order_id {
            Some(order_id) => Some(
                order_id
                    .as_str()
                    .try_into()
                    .map_err(|e: crate::types::error::ConversionError| InvalidInput::new("order_id", "a valid order id", e.to_string()))?,
            ),
            None => None,
        };
        Ok(crate::types::DeleteDesktopSubResourcesRequest {
            desktop_ids,
            order_id,
            sub_resource_type: self.sub_resource_type.clone(),
        })
    }
}

fn check_text(field: &str, value: &str, required: bool) -> Result<(), Error> {
    let chars = value.chars().count();
    if required && value.trim().is_empty() {
        let expected = format!("a non-blank string of at most {MAX_VALUE_CHARS} characters");
        return Err(InvalidInput::new(field, expected, format!("{value:?}")).into());
    }
    if chars > MAX_VALUE_CHARS {
        let expected = format!("at most {MAX_VALUE_CHARS} characters");
        return Err(InvalidInput::new(field, expected, format!("{chars} characters")).into());
    }
    Ok(())
}

/// The outcome of a successful call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// The id of the asynchronous job that deletes the resources.
    pub job_id: String,
    /// The service's `X-Request-Id` of the call, when it sent one.
    pub request_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_resource_type_is_open() {
        assert_eq!(SubResourceType::from("DESKTOP_SHARER"), SubResourceType::DesktopSharer);
        let other = SubResourceType::from("FUTURE_TYPE");
        assert_eq!(other.as_str(), "FUTURE_TYPE");
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"FUTURE_TYPE\"");
        let back: SubResourceType = serde_json::from_str("\"DESKTOP_SHARER\"").unwrap();
        assert_eq!(back, SubResourceType::DesktopSharer);
    }

    fn field_of(request: &DeleteSubResources) -> String {
        match request.validate() {
            Err(Error::InvalidInput(e)) => e.field().to_owned(),
            other => panic!("expected invalid input, got {other:?}"),
        }
    }

    #[test]
    fn validation_names_the_field() {
        let ok = DeleteSubResources::new(["d-1"], "DESKTOP_SHARER");
        assert!(ok.validate().is_ok());
        assert_eq!(field_of(&DeleteSubResources::new(Vec::<String>::new(), "DESKTOP_SHARER")), "desktop_ids");
        let many: Vec<String> = (0..101).map(|i| format!("d-{i}")).collect();
        assert_eq!(field_of(&DeleteSubResources::new(many, "DESKTOP_SHARER")), "desktop_ids");
        let hundred: Vec<String> = (0..100).map(|i| format!("d-{i}")).collect();
        assert!(DeleteSubResources::new(hundred, "DESKTOP_SHARER").validate().is_ok());
        assert_eq!(field_of(&DeleteSubResources::new(["d-1", "  "], "DESKTOP_SHARER")), "desktop_ids[1]");
        assert_eq!(field_of(&DeleteSubResources::new(["x".repeat(256)], "DESKTOP_SHARER")), "desktop_ids[0]");
        assert!(DeleteSubResources::new(["é".repeat(255)], "DESKTOP_SHARER").validate().is_ok());
        assert_eq!(field_of(&DeleteSubResources::new(["d-1"], "")), "sub_resource_type");
        assert_eq!(field_of(&DeleteSubResources::new(["d-1"], "T".repeat(256))), "sub_resource_type");
        assert_eq!(field_of(&DeleteSubResources::new(["d-1"], "DESKTOP_SHARER").order_id("o".repeat(256))), "order_id");
        assert!(DeleteSubResources::new(["d-1"], "DESKTOP_SHARER").order_id("").validate().is_ok());
    }
}
