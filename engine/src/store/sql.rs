//! A small builder for queries whose WHERE clause depends on filters, and
//! for multi-row statements. sqlx's `QueryBuilder` writes `?` placeholders
//! for the `Any` driver, which PostgreSQL rejects; this one writes each
//! database its own: `$1, $2, …` for PostgreSQL, plain `?` for SQLite.
//! SQLite accepts `$1` too, but as a *named* parameter: it keeps the names
//! in a list and sqlx looks each one up by walking it, so a statement of a
//! few hundred `$N` cost the square of its placeholders to bind (several
//! percent of a large check). A plain `?` has no name to look up.

use sqlx::any::AnyArguments;
use sqlx::Arguments;

use super::Backend;

pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(Some(v.to_owned()))
    }
}

/// The statement in each database's spelling; the two differ only in
/// their placeholders, and each value is bound once, in order.
#[derive(Default)]
pub(crate) struct Sql {
    postgres: String,
    sqlite: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { postgres: text.to_owned(), sqlite: text.to_owned(), values: Vec::new() }
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.postgres.push_str(text);
        self.sqlite.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        self.postgres.push('$');
        self.postgres.push_str(&self.values.len().to_string());
        self.sqlite.push('?');
        self
    }

    /// Appends `a, b, c` placeholders, one per item (for `IN (…)`).
    pub fn list<V: Into<Value>>(&mut self, items: impl IntoIterator<Item = V>) -> &mut Sql {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(item);
        }
        self
    }

    /// The statement as `backend` reads it.
    pub fn text(&self, backend: Backend) -> &str {
        match backend {
            Backend::Postgres => &self.postgres,
            Backend::Sqlite => &self.sqlite,
        }
    }

    pub fn arguments(&self) -> Result<AnyArguments<'static>, sqlx::Error> {
        let mut args = AnyArguments::default();
        for value in &self.values {
            match value {
                Value::Int(v) => args.add(*v),
                Value::Text(v) => args.add(v.clone()),
            }
            .map_err(sqlx::Error::Encode)?;
        }
        Ok(args)
    }
}

/// Escapes a user's search text for `LIKE … ESCAPE '\'` and wraps it in `%`.
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_and_plain_for_sqlite() {
        let mut sql = Sql::new("SELECT '$1?' WHERE a = ");
        sql.bind(1).push(" AND b IN (").list(["x", "y"]).push(")");
        assert_eq!(sql.text(Backend::Postgres), "SELECT '$1?' WHERE a = $1 AND b IN ($2, $3)");
        assert_eq!(sql.text(Backend::Sqlite), "SELECT '$1?' WHERE a = ? AND b IN (?, ?)");
        assert_eq!(sql.values.len(), 3);
    }

    #[test]
    fn like_wildcards_in_user_text_are_literal() {
        assert_eq!(contains_pattern("50%_A\\"), "%50\\%\\_a\\\\%");
    }
}
