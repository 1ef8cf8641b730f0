#![no_main]
//! See crmsync::fuzz::config (the same entry point the fuzz_corpora unit test replays).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crmsync::fuzz::config(data));
