//! How a server function's answer reaches a page. A resource's first value
//! is serialized into the server-rendered page and read back by the browser;
//! later values come from calling the server function again. Both travel in
//! postcard, the server functions' answer format (`output = Postcard`): it
//! reads a struct's fields by position, so the browser's WASM holds no
//! field-name matching per answer type, which JSON needed (about 8 % of the
//! code). The page's copy is read with the very function the
//! server-function client uses, so each answer type's reader is compiled
//! once. (Leptos' default resource codec is JSON read with `from_str`.)

use std::future::Future;

use codee::{Decoder, Encoder};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Postcard, written into the page as base64 by Leptos (it encodes a
/// resource's bytes so).
pub struct SameReaderPostcard;

impl<T: Serialize> Encoder<T> for SameReaderPostcard {
    type Error = postcard::Error;
    type Encoded = Vec<u8>;

    fn encode(value: &T) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for SameReaderPostcard {
    type Error = postcard::Error;
    type Encoded = [u8];

    fn decode(bytes: &[u8]) -> Result<T, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

/// A page's data: a resource that loads `fetcher(source())` (a server
/// function call) on the server, and again in the browser whenever
/// `source()` changes.
pub type Answer<T> = Resource<T, SameReaderPostcard>;

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
        let bytes = <SameReaderPostcard as Encoder<_>>::encode(&value).unwrap();
        let back: Result<Vec<(i64, Option<String>)>, String> = SameReaderPostcard::decode(&bytes).unwrap();
        assert_eq!(back, value);
        // A truncated answer is an error, not a shorter list.
        let numbers = <SameReaderPostcard as Encoder<Vec<i64>>>::encode(&vec![1, 2, 300]).unwrap();
        assert!(<SameReaderPostcard as Decoder<Vec<i64>>>::decode(&numbers[..numbers.len() - 1]).is_err());
    }
}
