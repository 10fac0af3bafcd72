//! A small builder for queries whose WHERE clause depends on filters.
//! sqlx's `QueryBuilder` writes `?` placeholders for the `Any` driver, which
//! PostgreSQL rejects; this one numbers them `$1, $2, …`, which both accept.

use sqlx::any::AnyArguments;
use sqlx::Arguments;

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

#[derive(Default)]
pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), values: Vec::new() }
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
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

    pub fn text(&self) -> &str {
        &self.text
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
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1).push(" AND b = ").bind("x");
        assert_eq!(sql.text(), "SELECT 1 WHERE a = $1 AND b = $2");
    }

    #[test]
    fn like_wildcards_in_user_text_are_literal() {
        assert_eq!(contains_pattern("50%_A\\"), "%50\\%\\_a\\\\%");
    }
}
