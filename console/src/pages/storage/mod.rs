//! Object storage: the account's buckets (owner, region, size, objects, public, website), made
//! and deleted here; a bucket opened shows its objects (`browser`), its permissions — the public
//! switch and the policy editor (`permissions`) — and its website (`website`).

mod browser;
mod permissions;
mod transfer;
mod website;

use leptos::prelude::*;
use nuvem_api::s3::Bucket;

use crate::api;
use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Field, Loaded, ResourceTable, Scope, confirm_delete};
use crate::i18n;
use crate::model::storage::human_bytes;

/// The bucket list, shared with the opened bucket's sections: a policy or website changed there
/// shows in its row (public badge, website address) once the list is read again.
#[derive(Clone, Copy)]
struct Buckets {
    scope: Scope,
    list: RwSignal<Loaded<Bucket>>,
}

impl Buckets {
    fn reload(self) {
        self.scope.load(self.list, async |sdk| {
            sdk.list_buckets().await.map(|l| l.items)
        });
    }

    /// The bucket named `name` as last listed.
    fn get(self, name: &str) -> Option<Bucket> {
        self.list.with(|l| match l {
            Some(Ok(items)) => items.iter().find(|b| b.name == name).cloned(),
            _ => None,
        })
    }
}

#[component]
pub fn Storage() -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let buckets = Buckets {
        scope,
        list: RwSignal::new(None),
    };
    buckets.reload();
    let region = RwSignal::new(String::new());
    scope.spawn(async move {
        if let Ok(info) = api::run(async |sdk| sdk.storage_info().await).await {
            let _ = region.try_set(info.region);
        }
    });
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let selected = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let new_name = name.get().trim().to_owned();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_bucket(&new_name).await).await {
                Ok(b) => {
                    name.set(String::new());
                    buckets.reload();
                    selected.set(Some(b.name));
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |bucket: String| {
        if !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            match api::run(async |sdk| sdk.delete_bucket(&bucket).await).await {
                Ok(()) => {
                    if selected.get_untracked().as_deref() == Some(bucket.as_str()) {
                        selected.set(None);
                    }
                    buckets.reload();
                }
                // Not empty: the server says what to delete first.
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let row = move |b: Bucket| {
        let (open, for_delete, sel, key) = (
            b.name.clone(),
            b.name.clone(),
            b.name.clone(),
            b.name.clone(),
        );
        let created = b.created_at.to_rfc3339();
        let website = b.website_url.clone().map(|url| {
            let shown = url.clone();
            view! { <a class="website" href=url target="_blank" rel="noopener">{shown}</a> }
        });
        view! {
            <tr data-bucket=key class=move || if selected.get().as_deref() == Some(sel.as_str()) { "selected" } else { "" }>
                <td><button class="link" on:click=move |_| selected.set(Some(open.clone()))>{b.name}</button></td>
                <td><code class="id">{b.account_id}</code><br/>{move || region.get()}</td>
                <td class="num">{human_bytes(b.size_bytes)}</td>
                <td class="num">{b.object_count}</td>
                <td>{b.public_read.then(|| view! { <span class="badge busy" data-public="true">{tr("s3.public")}</span> })}</td>
                <td>{website}</td>
                <td>{move || i18n::date(c.lang.get(), &created)}</td>
                <td><button class="danger" on:click=move |_| delete(for_delete.clone())>{tr("common.delete")}</button></td>
            </tr>
        }
    };
    view! {
        <section id="page-storage" data-page="storage">
            <h1>{tr("s3.buckets")}</h1>
            <p>{tr("s3.intro")}</p>
            <form class="inline" on:submit=create>
                <Field id="new-bucket" label=tr("s3.bucket_name") value=name>
                    <ErrorLine error=error id="bucket-error"/>
                </Field>
                <button id="create-bucket" type="submit">{tr("common.create")}</button>
            </form>
            <ResourceTable id="buckets" cols=8 items=buckets.list row=row>
                <th>{tr("common.name")}</th><th>{tr("s3.owner_region")}</th><th>{tr("s3.size")}</th>
                <th>{tr("s3.objects")}</th><th>{tr("s3.access")}</th><th>{tr("s3.website")}</th>
                <th>{tr("common.created")}</th><th>{tr("common.actions")}</th>
            </ResourceTable>
            // Built again for each bucket opened: its folder, policy and website are that bucket's.
            {move || selected.get().map(|bucket| {
                let (key, title, for_browser, for_permissions) =
                    (bucket.clone(), bucket.clone(), bucket.clone(), bucket.clone());
                view! {
                    <div class="detail" id="bucket-detail" data-bucket=key>
                        <h2>{title}</h2>
                        <browser::Browser bucket=for_browser buckets=buckets/>
                        <permissions::Permissions bucket=for_permissions buckets=buckets/>
                        <website::Website bucket=bucket buckets=buckets/>
                    </div>
                }
            })}
        </section>
    }
}
