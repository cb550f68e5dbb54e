//! A bucket's objects, one folder at a time (S3's delimiter `/`): breadcrumbs back up, folders
//! to open or make, files uploaded with a progress bar, and each object downloaded, shared by a
//! presigned link of a chosen lifetime, or deleted.

use leptos::html;
use leptos::prelude::*;
use nuvem_api::s3::{ObjectList, ObjectListParams, ObjectSummary, PresignedUrl};

use super::{Buckets, transfer};
use crate::api;
use crate::app::{ctx, text, tr};
use crate::components::{ErrorLine, Field, confirm_delete};
use crate::i18n;
use crate::model::storage::{
    LINK_EXPIRIES, breadcrumbs, folder_prefix, human_bytes, percent, short_name, upload_key,
};

/// An upload in progress or done: bytes sent of the total, and how it ended.
#[derive(Clone, Debug, Default)]
struct Progress {
    name: String,
    sent: f64,
    total: f64,
    done: bool,
}

/// The label of a link lifetime in the expiry `<select>`.
fn expiry_label(secs: u64) -> &'static str {
    match secs {
        s if s <= 15 * 60 => text("s3.expiry_15m"),
        s if s <= 3600 => text("s3.expiry_1h"),
        s if s <= 24 * 3600 => text("s3.expiry_1d"),
        _ => text("s3.expiry_7d"),
    }
}

#[component]
pub fn Browser(bucket: String, buckets: Buckets) -> impl IntoView {
    let c = ctx();
    let scope = buckets.scope;
    let bucket = StoredValue::new(bucket);
    let prefix = RwSignal::new(String::new());
    let listing = RwSignal::new(None::<Result<ObjectList, String>>);
    let error = RwSignal::new(None::<String>);
    let progress = RwSignal::new(None::<Progress>);
    let link = RwSignal::new(None::<(String, PresignedUrl)>);
    let expiry = RwSignal::new(LINK_EXPIRIES[1]);
    let new_folder = RwSignal::new(String::new());
    let file_input = NodeRef::<html::Input>::new();

    // The first page of the folder shown, or (`more`) the next page added below it.
    let list = move |more: bool| {
        let b = bucket.get_value();
        let params = ObjectListParams {
            prefix: Some(prefix.get_untracked()),
            continuation: more
                .then(|| {
                    listing.with_untracked(|l| match l {
                        Some(Ok(page)) => page.next_continuation.clone(),
                        _ => None,
                    })
                })
                .flatten(),
            limit: None,
        };
        scope.spawn(async move {
            let page = api::load(async |sdk| sdk.list_objects(&b, &params).await).await;
            let merged = match (more, page) {
                (true, Ok(mut next)) => listing.with_untracked(|l| {
                    if let Some(Ok(shown)) = l {
                        let mut objects = shown.objects.clone();
                        objects.append(&mut next.objects);
                        let mut folders = shown.common_prefixes.clone();
                        folders.append(&mut next.common_prefixes);
                        next.objects = objects;
                        next.common_prefixes = folders;
                    }
                    Ok(next)
                }),
                (_, page) => page,
            };
            let _ = listing.try_set(Some(merged));
        });
    };
    let open = move |to: String| {
        prefix.set(to);
        link.set(None);
        error.set(None);
        list(false);
    };
    list(false);
    // What changed the folder changes the bucket's size and count in the list too.
    let changed = move || {
        list(false);
        buckets.reload();
    };

    let make_folder = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(folder) = folder_prefix(&prefix.get_untracked(), &new_folder.get_untracked())
        else {
            return;
        };
        let b = bucket.get_value();
        error.set(None);
        scope.spawn(async move {
            // A folder is an empty object whose key ends in `/`, as the AWS console makes it.
            let made = api::run(async |sdk| {
                sdk.upload_object(&b, &folder, Vec::new(), "application/x-directory")
                    .await
            })
            .await;
            match made {
                Ok(_) => {
                    new_folder.set(String::new());
                    buckets.reload();
                    open(folder);
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };

    let start_upload = move |_| {
        let Some(file) = file_input
            .get()
            .and_then(|i| i.files())
            .and_then(|files| files.get(0))
        else {
            error.set(Some(text("s3.choose_file").to_owned()));
            return;
        };
        let (b, key) = (
            bucket.get_value(),
            upload_key(&prefix.get_untracked(), &file.name()),
        );
        let Some(token) = c.token.get_untracked() else {
            return;
        };
        let url = match api::client(Some(token.clone())) {
            Ok(sdk) => sdk.object_url(&b, &key),
            Err(e) => {
                error.set(Some(e.show()));
                return;
            }
        };
        error.set(None);
        progress.set(Some(Progress {
            name: file.name(),
            total: file.size(),
            ..Default::default()
        }));
        scope.spawn(async move {
            let on_progress = move |sent: f64, total: f64| {
                progress.update(|p| {
                    if let Some(p) = p {
                        p.sent = sent;
                        p.total = total;
                    }
                });
            };
            match transfer::upload(&url, &token, &file, on_progress).await {
                Ok(()) => {
                    progress.update(|p| {
                        if let Some(p) = p {
                            p.sent = p.total;
                            p.done = true;
                        }
                    });
                    if let Some(input) = file_input.get_untracked() {
                        input.set_value("");
                    }
                    changed();
                }
                Err(e) => {
                    progress.set(None);
                    error.set(Some(e));
                }
            }
        });
    };

    let download = move |key: String| {
        let b = bucket.get_value();
        error.set(None);
        scope.spawn(async move {
            let fetched = api::run(async |sdk| {
                let object = sdk.download_object(&b, &key).await?;
                let kind = object
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_owned();
                Ok((kind, object.bytes().await?))
            })
            .await;
            let saved = fetched.map_err(|e| e.show()).and_then(|(kind, bytes)| {
                let name = key.rsplit('/').next().unwrap_or(&key);
                transfer::save_as(name, &kind, &bytes)
            });
            if let Err(e) = saved {
                error.set(Some(e));
            }
        });
    };

    let share = move |key: String| {
        let (b, secs) = (bucket.get_value(), expiry.get_untracked());
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.presign_object(&b, &key, "GET", secs).await).await {
                Ok(url) => {
                    if let Some(w) = web_sys::window() {
                        // The clipboard may be refused (no permission): the link is shown too.
                        let _ = w.navigator().clipboard().write_text(&url.url);
                    }
                    link.set(Some((key, url)));
                }
                // No access key of their own: the message says how to make one.
                Err(e) => error.set(Some(e.show())),
            }
        });
    };

    let delete = move |key: String| {
        if !confirm_delete() {
            return;
        }
        let b = bucket.get_value();
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_object(&b, &key).await).await {
                Ok(()) => {
                    if link.with_untracked(|l| l.as_ref().is_some_and(|(k, _)| *k == key)) {
                        link.set(None);
                    }
                    changed();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };

    // A folder is deleted only when empty (its marker alone): deleting what it holds is done
    // object by object, so that nothing goes unseen.
    let delete_folder = move |folder: String| {
        if !confirm_delete() {
            return;
        }
        let b = bucket.get_value();
        error.set(None);
        scope.spawn(async move {
            let params = ObjectListParams {
                prefix: Some(folder.clone()),
                limit: Some(2),
                continuation: None,
            };
            let inside = api::run(async |sdk| sdk.list_objects(&b, &params).await).await;
            let result = match inside {
                Ok(l)
                    if !l.common_prefixes.is_empty()
                        || l.objects.iter().any(|o| o.key != folder) =>
                {
                    Err(text("s3.folder_not_empty").to_owned())
                }
                Ok(_) => api::run(async |sdk| sdk.delete_object(&b, &folder).await)
                    .await
                    .map_err(|e| e.show()),
                Err(e) => Err(e.show()),
            };
            match result {
                Ok(()) => changed(),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    let folder_row = move |folder: String| {
        let (for_open, for_delete, key) = (folder.clone(), folder.clone(), folder.clone());
        let name = short_name(&prefix.get_untracked(), &folder).to_owned();
        view! {
            <tr data-folder=key>
                <td><button class="link" data-action="open" on:click=move |_| open(for_open.clone())>"📁 "{name}</button></td>
                <td class="num">"—"</td>
                <td></td>
                <td><button class="danger" data-action="delete" on:click=move |_| delete_folder(for_delete.clone())>{tr("common.delete")}</button></td>
            </tr>
        }
    };
    let object_row = move |o: ObjectSummary| {
        let name = short_name(&prefix.get_untracked(), &o.key).to_owned();
        let modified = o.last_modified.to_rfc3339();
        let (k1, k2, k3, key) = (o.key.clone(), o.key.clone(), o.key.clone(), o.key.clone());
        view! {
            <tr data-key=key>
                <td>{name}</td>
                <td class="num">{human_bytes(o.size_bytes)}</td>
                <td>{move || i18n::date(c.lang.get(), &modified)}</td>
                <td>
                    <button class="secondary" data-action="download" on:click=move |_| download(k1.clone())>{tr("common.download")}</button>" "
                    <button class="secondary" data-action="link" on:click=move |_| share(k2.clone())>{tr("s3.copy_link")}</button>" "
                    <button class="danger" data-action="delete" on:click=move |_| delete(k3.clone())>{tr("common.delete")}</button>
                </td>
            </tr>
        }
    };
    let rows = move || match listing.get() {
        None => view! { <tr><td colspan="4">{tr("common.loading")}</td></tr> }.into_any(),
        Some(Err(e)) => view! { <tr><td colspan="4" class="error">{e}</td></tr> }.into_any(),
        Some(Ok(page)) => {
            let here = prefix.get_untracked();
            // The folder's own marker (`docs/` inside `docs/`) is the folder, not an entry.
            let objects: Vec<ObjectSummary> =
                page.objects.into_iter().filter(|o| o.key != here).collect();
            if objects.is_empty() && page.common_prefixes.is_empty() {
                return view! { <tr><td colspan="4">{tr("s3.empty_folder")}</td></tr> }.into_any();
            }
            view! {
                {page.common_prefixes.into_iter().map(folder_row).collect_view()}
                {objects.into_iter().map(object_row).collect_view()}
            }
            .into_any()
        }
    };
    let crumbs = move || {
        breadcrumbs(&bucket.get_value(), &prefix.get())
            .into_iter()
            .map(|crumb| {
                let to = crumb.prefix.clone();
                view! { <li><button class="link" data-prefix=crumb.prefix on:click=move |_| open(to.clone())>{crumb.label}</button></li> }
            })
            .collect_view()
    };
    let shown_progress = move || {
        progress.get().map(|p| {
            let pct = percent(p.sent, p.total);
            let status = if p.done {
                format!("{} {} ({})", text("s3.uploaded"), p.name, human_bytes(p.total as u64))
            } else {
                format!("{} {} {pct}%", text("s3.uploading"), p.name)
            };
            view! {
                <div class="bar" id="upload">
                    <progress id="upload-progress" value=p.sent.to_string() max=p.total.max(1.0).to_string()></progress>
                    <span class="figures" id="upload-status" data-done=p.done.to_string()>{status}</span>
                </div>
            }
        })
    };
    let shown_link = move || {
        link.get().map(|(key, url)| {
            let expires = url.expires_at.to_rfc3339();
            view! {
                <div class="secret" id="presigned">
                    <p>{tr("s3.link_for")}" "<code>{key}</code>" — "{tr("s3.link_expires")}" "{move || i18n::date(c.lang.get(), &expires)}</p>
                    <input id="presigned-url" readonly=true prop:value=url.url/>
                    <p class="notice">{tr("s3.link_notice")}" "<code>{url.access_key_id}</code></p>
                </div>
            }
        })
    };
    view! {
        <h3>{tr("s3.objects")}</h3>
        <ol class="chips" id="breadcrumbs">{crumbs}</ol>
        <div class="inline upload">
            <input type="file" id="upload-file" node_ref=file_input aria-label=tr("s3.choose_file")/>
            <button id="upload-start" type="button" on:click=start_upload>{tr("s3.upload")}</button>
        </div>
        {shown_progress}
        <form class="inline" on:submit=make_folder>
            <Field id="new-folder" label=tr("s3.folder_name") value=new_folder/>
            <button id="create-folder" type="submit" class="secondary">{tr("s3.new_folder")}</button>
        </form>
        <div class="inline">
            <label for="link-expiry">{tr("s3.link_expiry")}</label>
            <select id="link-expiry" on:change=move |ev| expiry.set(event_target_value(&ev).parse().unwrap_or(LINK_EXPIRIES[1]))>
                {LINK_EXPIRIES.into_iter().map(|secs| view! {
                    <option value=secs.to_string() selected=move || expiry.get() == secs>{move || { c.lang.get(); expiry_label(secs) }}</option>
                }).collect_view()}
            </select>
        </div>
        <ErrorLine error=error id="objects-error"/>
        {shown_link}
        <div class="table-wrap"><table id="objects">
            <thead><tr><th>{tr("common.name")}</th><th>{tr("s3.size")}</th><th>{tr("s3.last_modified")}</th><th>{tr("common.actions")}</th></tr></thead>
            <tbody>{rows}</tbody>
        </table></div>
        <Show when=move || listing.with(|l| matches!(l, Some(Ok(p)) if p.next_continuation.is_some()))>
            <button id="objects-more" class="secondary" on:click=move |_| list(true)>{tr("s3.more")}</button>
        </Show>
    }
}
