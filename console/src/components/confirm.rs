//! Asking before what cannot be undone.

use crate::app::text;

/// The browser's own confirmation dialog: modal, keyboard-accessible and translated by the
/// browser's buttons; `false` when it cannot be shown.
pub fn confirm(message: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.confirm_with_message(message).ok())
        .unwrap_or(false)
}

/// "Delete this? This cannot be undone.", in the page's language.
pub fn confirm_delete() -> bool {
    confirm(text("common.confirm_delete"))
}
