//! Key pairs: create one (Nuvem generates an ed25519 key; the private key is shown once, with a
//! link that downloads it), list them, delete one. The launch form offers them.

use leptos::prelude::*;
use nuvem_api::ec2::{KeyPair, KeyPairCreated};

use crate::api;
use crate::app::{ctx, tr};
use crate::components::{
    ErrorLine, Field, Loaded, ResourceTable, Scope, ShownOnce, confirm_delete,
};
use crate::i18n;
use crate::model;

#[component]
pub fn KeyPairs(keys: RwSignal<Loaded<KeyPair>>) -> impl IntoView {
    let c = ctx();
    let scope = Scope::current();
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let created = RwSignal::new(None::<KeyPairCreated>);
    let reload = move || {
        scope.load(keys, async |sdk| {
            sdk.list_key_pairs().await.map(|l| l.items)
        })
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        error.set(None);
        let new_name = name.get().trim().to_owned();
        scope.spawn(async move {
            match api::run(async |sdk| sdk.create_key_pair(&new_name, None).await).await {
                Ok(k) => {
                    name.set(String::new());
                    created.set(Some(k));
                    reload();
                }
                Err(e) => error.set(Some(e.show())),
            }
        });
    };
    let delete = move |key: String| {
        if !confirm_delete() {
            return;
        }
        error.set(None);
        scope.spawn(async move {
            if let Err(e) = api::run(async |sdk| sdk.delete_key_pair(&key).await).await {
                error.set(Some(e.show()));
            }
            reload();
        });
    };
    let row = move |k: KeyPair| {
        let created_at = k.created_at.to_rfc3339();
        let (for_delete, key) = (k.name.clone(), k.name.clone());
        view! {
            <tr data-key=key>
                <td>{k.name}</td>
                <td>{k.key_type}</td>
                <td class="id"><code>{k.fingerprint}</code></td>
                <td>{move || i18n::date(c.lang.get(), &created_at)}</td>
                <td><button class="danger" on:click=move |_| delete(for_delete.clone())>{tr("common.delete")}</button></td>
            </tr>
        }
    };
    view! {
        <h1>{tr("ec2.key_pairs")}</h1>
        <p>{tr("ec2.key_pairs_intro")}</p>
        <form class="inline" on:submit=create>
            <Field id="new-key-pair" label=tr("common.name") value=name/>
            <button id="create-key-pair" type="submit">{tr("common.create")}</button>
        </form>
        <ErrorLine error=error id="key-pair-error"/>
        // The private key exists in this answer only: shown until the page is left.
        {move || created.get().and_then(|k| {
            let private = k.private_key?;
            let file = model::key_file_name(&k.key_pair.name);
            Some(view! {
                <ShownOnce id="private-key-once" value_id="private-key" value=private file=file notice=tr("ec2.key_once")>
                    <p><strong>{tr("ec2.new_key")}": "</strong><code>{k.key_pair.name.clone()}</code>" "<code class="id">{k.key_pair.fingerprint.clone()}</code></p>
                </ShownOnce>
            })
        })}
        <ResourceTable id="key-pairs" cols=5 items=keys row=row>
            <th>{tr("common.name")}</th><th>{tr("ec2.key_type")}</th><th>{tr("ec2.fingerprint")}</th><th>{tr("common.created")}</th><th>{tr("common.actions")}</th>
        </ResourceTable>
    }
}
