//! A table of resources that says what it is waiting for: loading, nothing yet, or the error.

use leptos::prelude::*;

use crate::app::tr;

/// A list as a page holds it: `None` until the first answer, then the items or the error shown.
pub type Loaded<T> = Option<Result<Vec<T>, String>>;

/// `<table id=…>` with the header cells given as children and one row per item, in a box that
/// scrolls sideways when the table is wider than the screen (ids do not wrap).
#[component]
pub fn ResourceTable<T, R, V>(
    /// The table's element id (the browser test finds it so).
    id: &'static str,
    /// How many columns: the loading, empty and error rows span them all.
    cols: u32,
    #[prop(into)] items: Signal<Loaded<T>>,
    /// One `<tr>` of an item.
    row: R,
    children: Children,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    R: Fn(T) -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let cols = cols.to_string();
    view! {
        <div class="table-wrap"><table id=id>
            <thead><tr>{children()}</tr></thead>
            <tbody>
                {move || match items.get() {
                    None => view! { <tr><td colspan=cols.clone()>{tr("common.loading")}</td></tr> }.into_any(),
                    Some(Err(e)) => view! { <tr><td colspan=cols.clone() class="error">{e}</td></tr> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! { <tr><td colspan=cols.clone()>{tr("common.none")}</td></tr> }.into_any(),
                    Some(Ok(list)) => list.into_iter().map(row).collect_view().into_any(),
                }}
            </tbody>
        </table></div>
    }
}
