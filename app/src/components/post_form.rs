//! A form that calls a server function, and works before the page's WASM
//! has loaded: the browser then posts it itself (server functions read
//! url-encoded bodies). Once hydrated, its fields are read into the
//! function's arguments and the action is dispatched, so the page updates
//! in place.
//!
//! Leptos' `ActionForm` does the same, but reads the fields with serde_qs,
//! which understands nested names and numbers in any notation: its reader
//! was about 20 KB of the gzipped WASM of each page with such a form (see
//! docs/benchmarks.md, "WASM"). calsync's forms have flat fields holding
//! text, which the server function checks itself, so [`read_fields`] is a
//! small reader over the form's (name, value) pairs.

use std::fmt;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::de::value::{MapDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

use crate::error::AppError;

/// `<form method="post" action=F's URL>` around `children`. Extra
/// attributes (`attr:class=…`) land on the `<form>`.
#[component]
pub fn PostForm<F>(action: ServerAction<F>, children: Children) -> impl IntoView
where
    F: ServerFn<Error = AppError> + DeserializeOwned + Clone + Send + Sync + 'static,
    F::Output: Send + Sync + 'static,
{
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if ev.default_prevented() {
            return;
        }
        ev.prevent_default();
        submit(action, &ev);
    };
    view! {
        <form method="post" action=F::url() on:submit=on_submit>
            {children()}
        </form>
    }
}

#[cfg(feature = "hydrate")]
fn submit<F>(action: ServerAction<F>, ev: &leptos::ev::SubmitEvent)
where
    F: ServerFn<Error = AppError> + DeserializeOwned + Clone + Send + Sync + 'static,
    F::Output: Send + Sync + 'static,
{
    use wasm_bindgen::JsCast;

    // The same fields the browser would post, the pressed button's included.
    let pairs = leptos::form::form_data_from_event(ev).ok().and_then(|data| {
        let entries = js_sys::try_iter(data.as_ref()).ok()??;
        entries
            .map(|entry| {
                let entry: js_sys::Array = entry.ok()?.unchecked_into();
                Some((entry.get(0).as_string()?, entry.get(1).as_string()?))
            })
            .collect::<Option<Vec<_>>>()
    });
    match pairs.map(read_fields::<F>) {
        Some(Ok(args)) => {
            action.dispatch(args);
        }
        // The form's markup does not match the function's arguments (a file,
        // a misspelt name): a defect of ours, said as such.
        _ => {
            action.value().set(Some(Err(AppError::invalid("form", Unreadable.to_string()))));
            action.version().update(|n| *n += 1);
        }
    }
}

#[cfg(not(feature = "hydrate"))]
fn submit<F: ServerFn>(_action: ServerAction<F>, _ev: &leptos::ev::SubmitEvent) {}

/// A form's fields as a server function's arguments: each value is text,
/// read as a number, a yes/no or an enum's spelling where the argument is
/// one. Missing fields take their `#[server(default)]`.
pub fn read_fields<T: DeserializeOwned>(pairs: Vec<(String, String)>) -> Result<T, Unreadable> {
    T::deserialize(MapDeserializer::new(pairs.into_iter().map(|(name, value)| (name, Text(value)))))
}

/// The fields did not fit the arguments. It carries no words on purpose:
/// formatting serde's messages would bring its number formatting into the
/// WASM, for a case that only a defect in our own markup can cause.
#[derive(Debug, PartialEq, Eq)]
pub struct Unreadable;

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the form's fields do not fit the request")
    }
}

impl std::error::Error for Unreadable {}

impl de::Error for Unreadable {
    fn custom<M: fmt::Display>(_message: M) -> Self {
        Unreadable
    }
}

/// One field's value.
struct Text(String);

impl<'de> IntoDeserializer<'de, Unreadable> for Text {
    type Deserializer = Text;

    fn into_deserializer(self) -> Text {
        self
    }
}

impl Text {
    fn parse<N: std::str::FromStr>(&self) -> Result<N, Unreadable> {
        self.0.trim().parse().map_err(|_| Unreadable)
    }
}

impl<'de> de::Deserializer<'de> for Text {
    type Error = Unreadable;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        visitor.visit_string(self.0)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        // A checked checkbox without a value attribute posts "on".
        match self.0.as_str() {
            "true" | "on" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => Err(Unreadable),
        }
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        visitor.visit_i64(self.parse()?)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        visitor.visit_i32(self.parse()?)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        visitor.visit_u64(self.parse()?)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        visitor.visit_u32(self.parse()?)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Unreadable> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Unreadable> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Unreadable> {
        visitor.visit_enum(StringDeserializer::<Unreadable>::new(self.0))
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i128 u8 u16 u128 f32 f64 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Choice {
        All,
        Issues,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Args {
        id: i64,
        name: String,
        choice: Choice,
        #[serde(default)]
        note: String,
        flag: bool,
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn fields_become_typed_arguments() {
        let args: Args = read_fields(pairs(&[
            ("id", " 42 "),
            ("name", "Ann & Bob = 1"),
            ("choice", "issues"),
            ("flag", "on"),
            ("extra", "ignored"),
        ]))
        .unwrap();
        assert_eq!(
            args,
            Args { id: 42, name: "Ann & Bob = 1".into(), choice: Choice::Issues, note: String::new(), flag: true }
        );
    }

    #[test]
    fn fields_that_do_not_fit_are_refused() {
        let base = [("id", "1"), ("name", "x"), ("choice", "all"), ("flag", "false")];
        assert!(read_fields::<Args>(pairs(&base)).is_ok());
        for (field, bad) in [("id", "4x"), ("choice", "sometimes"), ("flag", "maybe")] {
            let list: Vec<(&str, &str)> = base.iter().map(|&(k, v)| (k, if k == field { bad } else { v })).collect();
            assert_eq!(read_fields::<Args>(pairs(&list)).unwrap_err(), Unreadable, "{field}={bad}");
        }
        assert!(read_fields::<Args>(pairs(&base[1..])).is_err(), "a missing field without a default");
    }
}
