//! Reading typed values out of `AnyRow`s, turning anything our types reject
//! into `StoreError::Corrupt` instead of a panic.

use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::StoreError;

pub(crate) fn get<'r, T>(row: &'r AnyRow, column: &'static str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(StoreError::from)
}

/// A text column holding one of an enum's spellings (or a time zone name).
pub(crate) fn parse<T>(row: &AnyRow, column: &'static str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text: String = get(row, column)?;
    text.parse().map_err(|e: T::Err| StoreError::Corrupt { column, detail: e.to_string() })
}

pub(crate) fn parse_opt<T>(row: &AnyRow, column: &'static str) -> Result<Option<T>, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let text: Option<String> = get(row, column)?;
    text.map(|t| t.parse().map_err(|e: T::Err| StoreError::Corrupt { column, detail: e.to_string() })).transpose()
}

pub(crate) fn flag(row: &AnyRow, column: &'static str) -> Result<bool, StoreError> {
    Ok(get::<i64>(row, column)? != 0)
}
