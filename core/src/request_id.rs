//! The identity of one request the flow asked for. Its own module because both the flow and
//! its errors name it, and neither should depend on the other for it.

/// Identifies one request the flow asked for, so its answer can be matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(u64);

impl RequestId {
    /// The first id of a flow.
    pub(crate) const FIRST: RequestId = RequestId(0);

    /// An id from its number (a resumed flow carries on where the snapshot left off).
    pub(crate) fn from_number(n: u64) -> RequestId {
        RequestId(n)
    }

    /// The number, for logs.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }

    /// The id after this one. A flow sends far fewer than 2^64 requests; should it ever get
    /// there, ids repeat rather than the flow panicking.
    pub(crate) fn next(self) -> RequestId {
        RequestId(self.0.wrapping_add(1))
    }
}
