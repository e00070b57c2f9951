//! Benchmarks of device-grant against the `oauth2` crate (5.x) and against a hand-written
//! minimal client, "the floor", that sends the same requests and reads the same fields into
//! small structs and does nothing else.
//!
//! Everything the benchmarks share lives here: the canned answers and the in-memory server
//! that gives them ([`canned`]), the hand-written extractor ([`extractor`]) and flow
//! ([`floor`]), and the code that runs one complete flow through device-grant
//! ([`core_flow`]) or through `oauth2` ([`oauth2_flow`]). `BENCHMARKS.md` at the repository
//! root has the results and `benches/run.sh` reruns them.

#![forbid(unsafe_code)]

pub mod canned;
pub mod core_flow;
pub mod cpu;
pub mod extractor;
pub mod floor;
pub mod json;
pub mod loopback;
pub mod measured;
pub mod oauth2_flow;
