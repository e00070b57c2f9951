//! Ctrl-C. The first press cancels the running flow: the driver wakes at once, the countdown
//! line is cleared, nothing is stored and the command exits with 130. A second press exits
//! at once, for a request that hangs on the wire.

use std::sync::OnceLock;

use device_grant_ureq::Cancel;

static CANCEL: OnceLock<Cancel> = OnceLock::new();

/// Installs the handler. Without one (the platform refused), Ctrl-C keeps its default
/// behaviour, which ends the process just the same.
pub fn install() {
    let cancel = handle();
    let _ = ctrlc::set_handler(move || {
        if cancel.is_cancelled() {
            std::process::exit(130);
        }
        cancel.cancel();
    });
}

/// The handle every flow of this process runs with.
pub fn handle() -> Cancel {
    CANCEL.get_or_init(Cancel::new).clone()
}
