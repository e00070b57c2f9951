//! Fuzz target `device_response`: see `harness::device_response`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    device_grant_fuzz::harness::device_response(data);
});
