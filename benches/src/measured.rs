//! The one function whose instructions the callgrind runs count
//! (`--toggle-collect=*measured_section*`): everything outside it, setup included, is left out.

/// Runs `work` where callgrind counts it. Never inlined, so that the function exists under
/// its own name in the binary.
#[inline(never)]
pub fn measured_section<R>(work: impl FnOnce() -> R) -> R {
    std::hint::black_box(work())
}

/// The callgrind option that counts only [`measured_section`].
pub const TOGGLE: &str = "--toggle-collect=*measured_section*";
