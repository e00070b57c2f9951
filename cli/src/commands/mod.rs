//! One module per command.

#[cfg(feature = "demo")]
pub mod demo;
pub mod login;
pub mod refresh;
pub mod token;
