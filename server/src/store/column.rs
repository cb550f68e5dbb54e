//! Typed columns: states stored as text but read strictly, and JSON columns.
//!
//! A state column holds `Text<InstanceState>`: written as its text (`"running"`), read back
//! through the enum's parser, so a value the code does not know is a database error at the
//! read, never a default. JSON columns are typed too ([`CoreList`], [`IdList`], [`Tags`]): a
//! corrupt value fails the read instead of silently becoming an empty list (an empty
//! `pinned_cpus` would free an instance's dedicated cores).

use std::collections::BTreeMap;
use std::fmt;

use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, StringLen, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, FromJsonQueryResult, QueryResult, TryGetError, TryGetable, Value};
use serde::{Deserialize, Serialize};

/// An enum stored as text: what it is called in messages, and its text both ways.
pub trait StoredText: Sized + Copy + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// What a value is, for errors: `instance state`.
    const WHAT: &'static str;
    fn as_text(self) -> &'static str;
    fn from_text(s: &str) -> Option<Self>;
}

/// A column holding a [`StoredText`] enum.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<T>(pub T);

impl<T: StoredText> fmt::Debug for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_text())
    }
}

impl<T: StoredText> fmt::Display for Text<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_text())
    }
}

impl<T> From<T> for Text<T> {
    fn from(v: T) -> Self {
        Text(v)
    }
}

impl<T: StoredText> PartialEq<T> for Text<T> {
    fn eq(&self, other: &T) -> bool {
        self.0 == *other
    }
}

impl<T: StoredText> Text<T> {
    pub fn get(self) -> T {
        self.0
    }

    pub fn as_str(self) -> &'static str {
        self.0.as_text()
    }

    fn parse(s: &str) -> Result<Self, String> {
        T::from_text(s)
            .map(Text)
            .ok_or_else(|| format!("the database holds an unknown {} {s:?}", T::WHAT))
    }
}

/// As its text, so that rows carried in the saga log read back the same strict way.
impl<T: StoredText> Serialize for Text<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_text())
    }
}

impl<'de, T: StoredText> Deserialize<'de> for Text<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Text::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl<T: StoredText> From<Text<T>> for Value {
    fn from(v: Text<T>) -> Self {
        Value::String(Some(Box::new(v.0.as_text().to_owned())))
    }
}

impl<T: StoredText> TryGetable for Text<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let s = <String as TryGetable>::try_get_by(res, index)?;
        Text::parse(&s).map_err(|e| TryGetError::DbErr(DbErr::Type(e)))
    }
}

impl<T: StoredText> ValueType for Text<T> {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(s)) => Text::parse(&s).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        T::WHAT.to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(StringLen::None)
    }
}

impl<T: StoredText> Nullable for Text<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl StoredText for nuvem_api::ec2::InstanceState {
    const WHAT: &'static str = "instance state";

    fn as_text(self) -> &'static str {
        self.as_str()
    }

    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredText for nuvem_api::ec2::ImageFormat {
    const WHAT: &'static str = "image format";

    fn as_text(self) -> &'static str {
        self.as_str()
    }

    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredText for nuvem_api::vpc::Direction {
    const WHAT: &'static str = "rule direction";

    fn as_text(self) -> &'static str {
        self.as_str()
    }

    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredText for nuvem_api::vpc::Protocol {
    const WHAT: &'static str = "protocol";

    fn as_text(self) -> &'static str {
        self.as_str()
    }

    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredText for nuvem_api::iam::AccessKeyStatus {
    const WHAT: &'static str = "access key status";

    fn as_text(self) -> &'static str {
        self.as_str()
    }

    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl StoredText for crate::saga::SagaState {
    const WHAT: &'static str = "saga state";

    fn as_text(self) -> &'static str {
        self.as_str()
    }

    fn from_text(s: &str) -> Option<Self> {
        Self::parse(s).ok()
    }
}

/// Host cores, as a JSON list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct CoreList(pub Vec<u32>);

/// Resource ids, as a JSON list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct IdList(pub Vec<String>);

/// Tags, as a JSON object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
pub struct Tags(pub BTreeMap<String, String>);

#[cfg(test)]
mod tests {
    use super::*;
    use nuvem_api::ec2::InstanceState;

    #[test]
    fn a_known_state_reads_back_and_an_unknown_one_is_an_error() {
        let v: Value = Text(InstanceState::ShuttingDown).into();
        assert_eq!(v, Value::String(Some(Box::new("shutting-down".into()))));
        let back = <Text<InstanceState> as ValueType>::try_from(v).expect("reads back");
        assert_eq!(back, InstanceState::ShuttingDown);
        let err = Text::<InstanceState>::parse("hibernating").expect_err("unknown");
        assert!(
            err.contains("unknown instance state \"hibernating\""),
            "{err}"
        );
        assert!(
            <Text<InstanceState> as ValueType>::try_from(Value::String(Some(Box::new(
                "Running".into()
            ))))
            .is_err(),
            "no case folding, no default"
        );
    }
}
