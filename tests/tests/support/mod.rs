//! Shared pieces of the end-to-end suites.
#![allow(dead_code)]

pub mod drive;
pub mod oidc;
pub mod pyserver;
