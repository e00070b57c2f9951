//! CPU time of this process, user and system, all threads together, ended ones included
//! (ureq resolves each request's address on a thread of its own).

use std::time::Duration;

/// CPU time used so far by this process.
pub fn process_cpu() -> Duration {
    cpu_time::ProcessTime::now().as_duration()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_time_grows_with_work_on_other_threads() {
        let before = super::process_cpu();
        std::thread::spawn(|| {
            let mut x = 0u64;
            for i in 0..20_000_000u64 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        })
        .join()
        .unwrap();
        assert!(super::process_cpu() > before + std::time::Duration::from_millis(1));
    }
}
