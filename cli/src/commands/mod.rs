//! One module per command.

pub mod demo;
pub mod login;
pub mod refresh;
pub mod token;
