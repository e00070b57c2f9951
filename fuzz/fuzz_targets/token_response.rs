//! Fuzz target `token_response`: see `harness::token_response`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    device_grant_fuzz::harness::token_response(data);
});
