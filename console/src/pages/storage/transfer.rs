//! Moving bytes between the browser and a bucket. An upload goes through the browser's
//! `XMLHttpRequest`, whose upload progress events `fetch` (and so the SDK) lacks, to the address
//! the SDK names; a download comes through the SDK and is handed to the browser as a file.

use js_sys::{Array, Promise, Uint8Array};
use nuvem_api::ErrorBody;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, BlobPropertyBag, File, HtmlAnchorElement, ProgressEvent, Url, XmlHttpRequest};

/// Aborts the request when dropped before it is done: leaving the page (whose tasks are then
/// aborted) stops the upload instead of letting it run on unseen.
struct AbortOnDrop(XmlHttpRequest);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if self.0.ready_state() != XmlHttpRequest::DONE {
            let _ = self.0.abort();
        }
    }
}

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "the browser refused the request".to_owned())
}

/// PUTs `file` to `url` (the SDK's `object_url`) with the session's `token`, calling
/// `progress(sent, total)` as the browser sends it. `Err` is the message to show: the API's
/// error with its code, or why the request failed.
pub async fn upload(
    url: &str,
    token: &str,
    file: &File,
    mut progress: impl FnMut(f64, f64) + 'static,
) -> Result<(), String> {
    let xhr = XmlHttpRequest::new().map_err(js_error)?;
    xhr.open_with_async("PUT", url, true).map_err(js_error)?;
    xhr.set_request_header("Authorization", &format!("Bearer {token}"))
        .map_err(js_error)?;
    // A file the browser knows no type of is sent without one: the server guesses it from the
    // key's extension, as `aws s3 cp` does.
    let kind = file.type_();
    if !kind.is_empty() {
        xhr.set_request_header("Content-Type", &kind)
            .map_err(js_error)?;
    }
    let on_progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() {
            progress(e.loaded(), e.total());
        }
    });
    let sending = xhr.upload().map_err(js_error)?;
    sending.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let finished = {
        let xhr = xhr.clone();
        Promise::new(&mut |resolve, reject| {
            xhr.set_onload(Some(&resolve));
            xhr.set_onerror(Some(&reject));
            xhr.set_onabort(Some(&reject));
        })
    };
    let guard = AbortOnDrop(xhr.clone());
    xhr.send_with_opt_blob(Some(file)).map_err(js_error)?;
    let outcome = JsFuture::from(finished).await;
    // The closure is dropped below: the browser must not call it after that.
    sending.set_onprogress(None);
    drop(on_progress);
    drop(guard);
    if outcome.is_err() {
        return Err("the upload was interrupted (network error or aborted)".to_owned());
    }
    let status = xhr.status().map_err(js_error)?;
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => format!("{} ({})", body.message, body.code),
        Err(_) => format!("HTTP {status}: {text}"),
    })
}

/// Hands `bytes` to the browser as a file named `name` (the browser's download).
pub fn save_as(name: &str, content_type: &str, bytes: &[u8]) -> Result<(), String> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let options = BlobPropertyBag::new();
    options.set_type(content_type);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js_error)?;
    let href = Url::create_object_url_with_blob(&blob).map_err(js_error)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: HtmlAnchorElement = document
        .create_element("a")
        .map_err(js_error)?
        .dyn_into()
        .map_err(|_| "not a link".to_owned())?;
    link.set_href(&href);
    link.set_download(name);
    link.click();
    // Freed at once, some browsers would cancel the download they have just begun.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = Url::revoke_object_url(&href);
    })
    .forget();
    Ok(())
}
