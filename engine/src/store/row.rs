//! Reading typed values out of `AnyRow`s, turning anything our types reject
//! into `StoreError::Corrupt` instead of a panic.

use std::str::FromStr;

use sqlx::any::AnyRow;
use sqlx::Row;

use super::StoreError;
use crate::domain::Members;

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

/// The select list of a [`Members`] fingerprint over `id` (an integer
/// column): `n`, `id_sum` and `id_squares`, computed exactly as
/// `Members::of` does.
pub(crate) fn members_columns(id: &str) -> String {
    let m = Members::MODULUS;
    format!(
        "COUNT(*) AS n, CAST(COALESCE(SUM({id}), 0) AS BIGINT) AS id_sum, \
         CAST(COALESCE(SUM((({id}) % {m}) * (({id}) % {m}) % {m}), 0) AS BIGINT) AS id_squares"
    )
}

pub(crate) fn members(row: &AnyRow) -> Result<Members, StoreError> {
    Ok(Members { count: get(row, "n")?, id_sum: get(row, "id_sum")?, id_square_sum: get(row, "id_squares")? })
}
