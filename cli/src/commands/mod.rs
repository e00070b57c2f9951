//! One module per command.

pub mod completions;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dpop_proof;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod status;
pub mod token;

use crate::args::StoreArgs;
use crate::exit::CliError;
use crate::profiles;
use crate::tokens::{self, Tokens};

/// The store `--profile` or `--cache` names; one of them is required.
pub fn store_of(args: &StoreArgs) -> Result<Tokens, CliError> {
    let kind = match &args.profile {
        Some(name) => profiles::load(name, false)?.store_kind()?,
        None => device_grant_store::BackendKind::File,
    };
    tokens::open(args.profile.as_deref(), args.cache.as_deref(), kind)?
        .ok_or_else(|| CliError::usage("name the token set: --profile NAME or --cache FILE"))
}
