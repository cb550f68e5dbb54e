//! The extractors of every handler's input, used instead of actix-web's: [`Path`], [`Query`] and
//! [`Json`]. They refuse here, once for every operation, what no service should ever see:
//!
//! - a control character in a path parameter, a query parameter or any string of a JSON body
//!   (keys included). NUL above all: PostgreSQL can neither store nor compare it, so it used to
//!   reach a query and answer 500. Only the top-level body fields of
//!   [`validate::MULTI_LINE_FIELDS`] (descriptions, `user_data`, `public_key`) may hold newlines,
//!   carriage returns and tabs; never NUL or any other control character
//!   ([`validate::no_control_characters`] is the rule);
//! - a JSON body that is not an object: an array's items were taken as fields by position (a user
//!   was created from `["name", "password"]`).
//!
//! Each answers 400 `InvalidRequest` naming the parameter or field. Otherwise they are actix-web's:
//! the same configuration (`PathConfig`, `QueryConfig`, and `JsonConfig` with its size limit and
//! content type), the same errors, and the same OpenAPI document (utoipa knows them by name).
//! [`Json`] is also the responder of JSON answers, so handlers import one `Json`.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder, dev::Payload, web};
use nuvem_api::validate;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::Error;

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

/// Path parameters, as `actix_web::web::Path`, with no control character in any of them.
#[derive(Debug)]
pub struct Path<T>(T);

impl<T> Path<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Path<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Every path parameter of the route, decoded as the handler sees it, against the rule.
fn check_path(req: &HttpRequest) -> Result<(), Error> {
    let info = req.match_info();
    // `load` decodes each value fully (percent-encoding included), as `web::Path` does.
    let Ok(values) = info.load::<Vec<String>>() else {
        return Ok(()); // `web::Path` reports what it cannot decode.
    };
    for ((name, _), value) in info.iter().zip(&values) {
        validate::no_control_characters(&format!("the path parameter `{name}`"), value, false)
            .map_err(Error::InvalidRequest)?;
    }
    Ok(())
}

impl<T: DeserializeOwned + 'static> FromRequest for Path<T> {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_path(req);
        let typed = web::Path::<T>::from_request(req, payload);
        Box::pin(async move {
            checked?;
            Ok(Path(typed.await?.into_inner()))
        })
    }
}

/// Query parameters, as `actix_web::web::Query`, with no control character in any name or value.
#[derive(Debug)]
pub struct Query<T>(T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn check_query(req: &HttpRequest) -> Result<(), Error> {
    // Decoded as `web::Query` decodes them; what does not decode is its error to report.
    let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(req.query_string()) else {
        return Ok(());
    };
    for (name, value) in pairs.iter() {
        validate::no_control_characters("the name of a query parameter", name, false)
            .map_err(Error::InvalidRequest)?;
        validate::no_control_characters(&format!("the query parameter `{name}`"), value, false)
            .map_err(Error::InvalidRequest)?;
    }
    Ok(())
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let checked = check_query(req);
        let typed = web::Query::<T>::from_request(req, payload);
        Box::pin(async move {
            checked?;
            Ok(Query(typed.await?.into_inner()))
        })
    }
}

/// A JSON request body, as `actix_web::web::Json`, that is an object with no control character in
/// any string (multi-line fields aside); and a JSON answer.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Serialize> Responder for Json<T> {
    type Body = <web::Json<T> as Responder>::Body;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<Self::Body> {
        web::Json(self.0).respond_to(req)
    }
}

/// Longest field path shown in a message (a path made of long keys is cut).
const SHOWN_PATH: usize = 80;

fn shown(path: &str) -> String {
    match path.char_indices().nth(SHOWN_PATH) {
        Some((cut, _)) => format!("{}…", &path[..cut]),
        None => path.to_owned(),
    }
}

/// What kind of JSON value a body is, for the message refusing it.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The body's shape and every string in it, keys included, against the rule.
fn check_body(body: &Value) -> Result<(), String> {
    let Value::Object(fields) = body else {
        return Err(format!(
            "the request body must be a JSON object of named fields, such as {{\"name\": \"…\"}}, \
             not {} (see /docs for the fields of each call)",
            kind(body)
        ));
    };
    for (name, value) in fields {
        validate::no_control_characters("the name of a field", name, false)?;
        let multi_line = validate::MULTI_LINE_FIELDS.contains(&name.as_str());
        check_value(name, value, multi_line)?;
    }
    Ok(())
}

fn check_value(path: &str, value: &Value, multi_line: bool) -> Result<(), String> {
    match value {
        Value::String(s) => {
            validate::no_control_characters(&format!("the field `{}`", shown(path)), s, multi_line)
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_value(&format!("{path}[{i}]"), item, false)),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            validate::no_control_characters(
                &format!("a field name in `{}`", shown(path)),
                key,
                false,
            )?;
            check_value(&format!("{path}.{key}"), item, false)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// The wording of a body that parses as JSON but is not what the call takes (as `http::json_error`).
fn mismatch(e: serde_json::Error) -> Error {
    Error::invalid(format!(
        "the request body does not match what this call expects: {e}"
    ))
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Extracted<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Read as `web::Json` reads (limit, content type, syntax, and their errors), kept as text:
        // the typed value is parsed from the text, so that a duplicated field is still refused.
        let raw = web::Json::<Box<RawValue>>::from_request(req, payload);
        Box::pin(async move {
            let raw = raw.await?.into_inner();
            let body: Value = serde_json::from_str(raw.get()).map_err(mismatch)?;
            check_body(&body).map_err(Error::InvalidRequest)?;
            Ok(Json(serde_json::from_str(raw.get()).map_err(mismatch)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_objects_of_clean_strings() {
        assert!(check_body(&json!({"name": "a", "tags": {"k": "🦀"}})).is_ok());
        for body in [
            json!(["name", "password"]),
            json!("x"),
            json!(1),
            json!(null),
        ] {
            assert!(
                check_body(&body).unwrap_err().contains("JSON object"),
                "{body}"
            );
        }
        let err = check_body(&json!({"name": "a\u{0}b"})).unwrap_err();
        assert!(err.contains("`name`") && err.contains("NUL"), "{err}");
        let err = check_body(&json!({"document": {"Statement": [{"Action": "a\nb"}]}}));
        assert!(err.unwrap_err().contains("`document.Statement[0].Action`"));
        let err = check_body(&json!({"tags": {"k\u{7f}": "v"}})).unwrap_err();
        assert!(err.contains("a field name in `tags`"), "{err}");
        assert!(check_body(&json!({"user_data": "#!/bin/sh\r\n\techo hi\n"})).is_ok());
        assert!(check_body(&json!({"user_data": "a\u{0}"})).is_err());
        assert!(check_body(&json!({"name": "a\tb"})).is_err());
        let long = "k".repeat(500);
        let err = check_body(&json!({ long.clone(): {"x": "\u{1}"} })).unwrap_err();
        assert!(err.len() < 400, "{err}");
    }
}
