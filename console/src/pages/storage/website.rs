//! A bucket's static website: its index and error documents, and the address it is served at
//! (anonymously, while the bucket is public).

use leptos::prelude::*;
use nuvem_api::s3::BucketWebsite;

use super::Buckets;
use crate::api;
use crate::app::tr;
use crate::components::{ErrorLine, Field};

#[component]
pub fn Website(bucket: String, buckets: Buckets) -> impl IntoView {
    let scope = buckets.scope;
    let bucket = StoredValue::new(bucket);
    let index = RwSignal::new("index.html".to_owned());
    let error_doc = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let url = Memo::new(move |_| buckets.get(&bucket.get_value()).and_then(|b| b.website_url));
    let public = Memo::new(move |_| {
        buckets
            .get(&bucket.get_value())
            .is_some_and(|b| b.public_read)
    });
    {
        let b = bucket.get_value();
        scope.spawn(async move {
            // None yet (NotFound): the form keeps its defaults.
            if let Ok(site) = api::run(async |sdk| sdk.get_bucket_website(&b).await).await {
                let _ = index.try_set(site.index_document);
                let _ = error_doc.try_set(site.error_document.unwrap_or_default());
            }
        });
    }
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let b = bucket.get_value();
        let site = BucketWebsite {
            index_document: index.get_untracked().trim().to_owned(),
            error_document: Some(error_doc.get_untracked().trim().to_owned())
                .filter(|e| !e.is_empty()),
        };
        scope.spawn(async move {
            match api::run(async |sdk| sdk.put_bucket_website(&b, &site).await).await {
                Ok(_) => buckets.reload(),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let remove = move |_| {
        error.set(None);
        let b = bucket.get_value();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_bucket_website(&b).await).await {
                Ok(()) => buckets.reload(),
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    view! {
        <h3>{tr("s3.website")}</h3>
        <form class="inline" on:submit=save>
            <Field id="website-index" label=tr("s3.index_document") value=index/>
            <Field id="website-error" label=tr("s3.error_document") value=error_doc/>
            <button id="save-website" type="submit">{tr("common.save")}</button>
            <button id="delete-website" type="button" class="danger" prop:disabled=move || url.get().is_none()
                on:click=remove>{tr("s3.website_off")}</button>
        </form>
        <ErrorLine error=error id="website-error-line"/>
        {move || url.get().map(|u| {
            let shown = u.clone();
            view! {
                <p>{tr("s3.website_at")}" "<a id="website-url" href=u target="_blank" rel="noopener">{shown}</a></p>
                <Show when=move || !public.get()>
                    <p class="notice" id="website-private">{tr("s3.website_private")}</p>
                </Show>
            }
        })}
    }
}
