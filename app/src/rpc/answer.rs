//! How a server function's answer reaches a page. A resource's first value
//! is serialized into the server-rendered page and read back by the browser;
//! later values come from calling the server function again. Leptos' default
//! resource codec reads the page's copy with `serde_json::from_str`, and the
//! server-function client reads its answer with `serde_json::from_slice`:
//! two JSON readers, so every answer type's deserializer was compiled twice
//! into the browser's WASM. [`answer`] reads both ways with the same one.

use std::future::Future;

use codee::{Decoder, Encoder};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON, read back with the server-function client's reader.
pub struct SameReaderJson;

impl<T: Serialize> Encoder<T> for SameReaderJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for SameReaderJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(text.as_bytes())
    }
}

/// A page's data: a resource that loads `fetcher(source())` (a server
/// function call) on the server, and again in the browser whenever
/// `source()` changes.
pub type Answer<T> = Resource<T, SameReaderJson>;

/// [`Resource::new`], with the answer read as described above.
#[track_caller]
pub fn answer<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Answer<T>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_back_what_it_wrote() {
        let value: Result<Vec<(i64, Option<String>)>, String> = Ok(vec![(1, Some("é \"q\"".into())), (2, None)]);
        let text = <SameReaderJson as Encoder<_>>::encode(&value).unwrap();
        let back: Result<Vec<(i64, Option<String>)>, String> = SameReaderJson::decode(&text).unwrap();
        assert_eq!(back, value);
        assert!(<SameReaderJson as Decoder<Vec<i64>>>::decode("{").is_err());
    }
}
