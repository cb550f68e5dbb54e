//! The pieces the pages share: a resource table, form fields, the status badges, a bar of use
//! against total, a secret shown once, the confirm dialog, the header, and the scope that ends a
//! page's tasks (its polling too) with the page.

mod badge;
mod bar;
mod confirm;
mod form;
mod header;
mod secret;
mod table;
mod task;

pub use badge::{Badge, StatusBadge};
pub use bar::Bar;
pub use confirm::confirm_delete;
pub use form::{ErrorLine, Field, Input};
pub use header::{Header, LangSwitch};
pub use secret::ShownOnce;
pub use table::{Loaded, ResourceTable};
pub use task::Scope;
