//! The workspace's end-to-end suites live in `tests/`: both drivers against the simulated
//! server (`device-grant-sim`) over real sockets, and against real independent
//! authorization servers.
//!
//! It holds [`canned`]: small servers for answers the simulator does not give, shared with
//! the command line's tests.

pub mod canned;

// The repository README's examples, compiled by `cargo test --doc`: this crate depends on both
// drivers, which those examples use. Only under cfg(doctest), so it adds nothing to the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
