//! How the appointment list is ordered, and the keyset cursor that pages
//! through it: "after this row" is `(sort value, id)`, so pages stay stable
//! while rows are added and no OFFSET scan grows with the page number.

use crate::domain::{AppointmentId, SortKey};

/// The SQL expression ordered by; `text` says whether cursors hold text.
pub(crate) const fn column(key: SortKey) -> (&'static str, bool) {
    match key {
        SortKey::Start => ("starts_at", false),
        // Not LOWER(): SQLite folds only ASCII, so a cursor computed in
        // Rust could disagree with the database about the next row.
        SortKey::Customer => ("customer_name", true),
        SortKey::Status => ("sync_status", true),
        SortKey::Updated => ("updated_at", false),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppointmentOrder {
    pub key: SortKey,
    pub descending: bool,
}

/// The sort value of the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// Where the next page starts: after the row with this value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageCursor {
    pub value: SortValue,
    pub id: AppointmentId,
}

impl PageCursor {
    /// The cursor just after `a` in `key` order.
    pub fn after(a: &super::Appointment, key: SortKey) -> PageCursor {
        let value = match key {
            SortKey::Start => SortValue::Int(a.starts_at.timestamp_millis()),
            SortKey::Customer => SortValue::Text(a.customer_name.clone()),
            SortKey::Status => SortValue::Text(a.sync.status.as_str().to_owned()),
            SortKey::Updated => SortValue::Int(a.updated_at.timestamp_millis()),
        };
        PageCursor { value, id: a.id }
    }

    /// `<value>_<id>`; the id is last, so text values may contain `_`.
    pub fn encode(&self) -> String {
        match &self.value {
            SortValue::Int(n) => format!("{n}_{}", self.id.get()),
            SortValue::Text(t) => format!("{t}_{}", self.id.get()),
        }
    }

    /// Reads a cursor made by `encode` for `key`; `None` if it is not one.
    pub fn decode(text: &str, key: SortKey) -> Option<PageCursor> {
        let (value, id) = text.rsplit_once('_')?;
        let id = AppointmentId(id.parse().ok()?);
        let value = match column(key).1 {
            true => SortValue::Text(value.to_owned()),
            false => SortValue::Int(value.parse().ok()?),
        };
        Some(PageCursor { value, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_ids_come_last() {
        let text = PageCursor { value: SortValue::Text("anna_maria schmidt".into()), id: AppointmentId(42) };
        assert_eq!(PageCursor::decode(&text.encode(), SortKey::Customer), Some(text));
        let time = PageCursor { value: SortValue::Int(1_760_000_000_000), id: AppointmentId(7) };
        assert_eq!(PageCursor::decode(&time.encode(), SortKey::Start), Some(time));
        assert_eq!(PageCursor::decode("soon_7", SortKey::Start), None);
        assert_eq!(PageCursor::decode("no-id", SortKey::Customer), None);
    }
}
