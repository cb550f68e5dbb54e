//! Container images: the shared bases and the account's own, with size and layers; a row opens
//! to its layers as `docker history` shows them (newest first); an image no app uses can be
//! deleted (the server refuses one in use, and says which app).

use leptos::prelude::*;
use nuvem_api::apps::{ContainerImage, ImageLayer};

use crate::app::{ctx, tr};
use crate::components::{ErrorLine, Loaded, ResourceTable, Scope, confirm_delete};
use crate::i18n;
use crate::{api, model::apps::bytes};

#[component]
pub fn Images() -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let images = RwSignal::<Loaded<ContainerImage>>::new(None);
    let open = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let reload = move || {
        scope.load(images, async |sdk| {
            sdk.list_container_images().await.map(|l| l.items)
        })
    };
    reload();
    let delete = move |reference: String| {
        if !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            if let Err(e) = api::run(async |sdk| sdk.delete_container_image(&reference).await).await
            {
                error.set(Some(e.show()));
            }
            reload();
        });
    };
    let row = move |i: ContainerImage| {
        let created = i.created_at.to_rfc3339();
        let (key, for_open, for_shown, for_delete) = (
            i.reference.clone(),
            i.reference.clone(),
            i.reference.clone(),
            i.reference.clone(),
        );
        let shown = move || open.get().as_deref() == Some(for_shown.as_str());
        let layers = i.layers.clone();
        let kind = if i.base {
            view! { <span class="pill">{tr("apps.base")}</span> }.into_any()
        } else {
            view! { <button class="danger" data-action="delete"
            on:click=move |_| delete(for_delete.clone())>{tr("common.delete")}</button> }
            .into_any()
        };
        view! {
            <tr data-image=key>
                <td class="image"><code>{i.reference.clone()}</code></td>
                <td class="num">{bytes(i.size_bytes)}</td>
                <td class="num">{i.layers.len()}</td>
                <td>{move || i18n::date(c.lang.get(), &created)}</td>
                <td class="actions">
                    <button class="secondary" data-action="layers" on:click=move |_| {
                        let this = for_open.clone();
                        open.update(|o| *o = if o.as_deref() == Some(this.as_str()) { None } else { Some(this) });
                    }>{tr("apps.layers")}</button>" "{kind}
                </td>
            </tr>
            <Show when=shown.clone()>
                <tr class="layers"><td colspan="5"><History layers=layers.clone()/></td></tr>
            </Show>
        }
    };
    view! {
        <h2>{tr("apps.images")}</h2>
        <p>{tr("apps.images_intro")}</p>
        <ErrorLine error=error id="image-error"/>
        <ResourceTable id="container-images" cols=5 items=images row=row>
            <th>{tr("ec2.image")}</th><th>{tr("apps.size")}</th><th>{tr("apps.layers")}</th>
            <th>{tr("common.created")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
    }
}

/// An image's layers, newest first, as `docker history` lists them.
#[component]
fn History(layers: Vec<ImageLayer>) -> impl IntoView {
    view! {
        <table class="history">
            <thead><tr><th>{tr("apps.created_by")}</th><th>{tr("apps.size")}</th></tr></thead>
            <tbody>
                {layers.into_iter().map(|l| view! {
                    <tr><td><code>{l.created_by}</code></td><td class="num">{bytes(l.size_bytes)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
