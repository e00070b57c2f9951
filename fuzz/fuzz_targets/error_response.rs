//! Fuzz target `error_response`: see `harness::error_response`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    device_grant_fuzz::harness::error_response(data);
});
