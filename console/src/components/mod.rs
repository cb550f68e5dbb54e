//! The pieces the pages share: a resource table, form fields, the status badge, the confirm
//! dialog, the header, and the scope that ends a page's tasks (its polling too) with the page.

mod badge;
mod confirm;
mod form;
mod header;
mod table;
mod task;

pub use badge::StatusBadge;
pub use confirm::confirm_delete;
pub use form::{ErrorLine, Field, Input};
pub use header::{Header, LangSwitch};
pub use table::{Loaded, ResourceTable};
pub use task::Scope;
