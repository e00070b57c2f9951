//! Mapping ureq's errors onto the kinds the core reasons about.

use std::io;

use device_grant::TransportErrorKind;

/// The kind of transport failure a ureq error is, as [`Flow::handle_transport_error`] wants
/// it.
///
/// [`Flow::handle_transport_error`]: device_grant::Flow::handle_transport_error
pub fn error_kind(error: &ureq::Error) -> TransportErrorKind {
    match error {
        ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_) => TransportErrorKind::Connect,
        ureq::Error::Io(e) => io_kind(e),
        _ => TransportErrorKind::Other,
    }
}

fn io_kind(error: &io::Error) -> TransportErrorKind {
    use io::ErrorKind as K;
    match error.kind() {
        K::ConnectionRefused
        | K::AddrNotAvailable
        | K::NotConnected
        | K::HostUnreachable
        | K::NetworkUnreachable
        | K::NetworkDown => TransportErrorKind::Connect,
        K::TimedOut | K::WouldBlock => TransportErrorKind::Timeout,
        // rustls reports a failed handshake (an unknown certificate authority, a bad
        // certificate) as invalid data: not a broken connection, and no retry mends it.
        K::InvalidData => TransportErrorKind::Other,
        _ => TransportErrorKind::Io,
    }
}
