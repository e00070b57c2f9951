//! Fuzz targets for `device-grant`. The harness lives in `harness.rs` so that the core's test
//! suite can include the very same code and replay the corpus on a stable toolchain.

pub mod harness;
