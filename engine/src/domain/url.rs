//! Percent-encoding what calsync puts into its own URLs (filters in a
//! page's query, the page to return to after logging in), with the
//! `percent-encoding` crate; the sets are the only rule here.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The same, but `/` stays: a local path given as a query value reads as
/// one (`/login?next=/appointments/12`).
const PATH_IN_QUERY: &AsciiSet = &QUERY_VALUE.remove(b'/');

/// `value` ready to stand after `name=` in a query.
pub fn query_value(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// A local path and query, ready to stand as one query value.
pub fn path_in_query(path: &str) -> String {
    utf8_percent_encode(path, PATH_IN_QUERY).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_stay() {
        assert_eq!(query_value("Anna Müller & co/1"), "Anna%20M%C3%BCller%20%26%20co%2F1");
        assert_eq!(query_value("a-b.c_d~e"), "a-b.c_d~e");
    }

    #[test]
    fn a_path_keeps_its_slashes_and_nothing_else() {
        assert_eq!(path_in_query("/a b?c=d&e"), "/a%20b%3Fc%3Dd%26e");
    }
}
