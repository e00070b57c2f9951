//! Turning plans into HTTP responses, including the faults, and the
//! listener whose connections can be reset on purpose.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::response::Response;
use axum::serve::IncomingStream;
use http::{HeaderValue, StatusCode};
use http_body::Frame;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

use crate::app::Plan;
use crate::dialect::Reply;
use crate::render::{
    OVERSIZED_PREFIX, OVERSIZED_SUFFIX, gateway_page, mangle_utf8, retry_after_headers,
};
use crate::script::Fault;

/// How long a partly sent body waits before the connection is cut, so the
/// part really leaves the server first.
const CUT_DELAY: Duration = Duration::from_millis(50);
const OVERSIZED_CHUNK: usize = 64 * 1024;

/// Per-connection handle given to the handler: lets a fault ask for the
/// connection to be reset (RST) instead of closed.
#[derive(Clone, Debug)]
pub(crate) struct ConnInfo {
    reset: Arc<AtomicBool>,
}

/// A TCP listener whose connections honour [`ConnInfo`]'s reset request.
pub(crate) struct SimListener(pub(crate) TcpListener);

impl axum::serve::Listener for SimListener {
    type Io = SimConn;
    type Addr = ConnInfo;

    async fn accept(&mut self) -> (SimConn, ConnInfo) {
        loop {
            match self.0.accept().await {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let reset = Arc::new(AtomicBool::new(false));
                    let info = ConnInfo {
                        reset: Arc::clone(&reset),
                    };
                    return (SimConn { stream, reset }, info);
                }
                // Out of file descriptors and the like: wait and retry.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<ConnInfo> {
        self.0.local_addr().map(|_: SocketAddr| ConnInfo {
            reset: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, SimListener>> for ConnInfo {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// A connection that sends RST instead of FIN when dropped after a reset
/// was requested.
pub(crate) struct SimConn {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for SimConn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for SimConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SimConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.reset.load(Ordering::SeqCst) {
            // No FIN: the drop sends RST.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// How a [`FaultBody`] ends after its chunks.
enum BodyEnd {
    /// Ends normally (with a too-large Content-Length: the server closes).
    Finish,
    /// Fails, and the connection is reset.
    Reset(Arc<AtomicBool>),
}

/// A response body that sends some chunks, optionally pauses, then ends or
/// fails.
struct FaultBody {
    chunks: VecDeque<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
    end: BodyEnd,
}

impl http_body::Body for FaultBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if let Some(chunk) = this.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        if let Some(pause) = this.pause.as_mut() {
            ready!(pause.as_mut().poll(cx));
            this.pause = None;
        }
        match &this.end {
            BodyEnd::Finish => Poll::Ready(None),
            BodyEnd::Reset(flag) => {
                flag.store(true, Ordering::SeqCst);
                Poll::Ready(Some(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "injected connection reset",
                ))))
            }
        }
    }
}

/// A plain response.
pub(crate) fn simple(status: StatusCode, body: &'static str) -> Response {
    build(status, "text/plain; charset=utf-8", &[], Body::from(body))
}

fn build(
    status: StatusCode,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: Body,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert(http::header::CONTENT_TYPE, v);
    }
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.append(*name, v);
        }
    }
    response
}

fn from_reply(r: Reply) -> Response {
    build(r.status, r.content_type, &r.headers, Body::from(r.body))
}

fn oversized_chunks(total: usize) -> VecDeque<Bytes> {
    let (prefix, suffix) = (OVERSIZED_PREFIX, OVERSIZED_SUFFIX);
    let mut chunks = VecDeque::new();
    chunks.push_back(Bytes::from_static(prefix));
    let mut padding = total.saturating_sub(prefix.len() + suffix.len());
    let block = Bytes::from(vec![b' '; OVERSIZED_CHUNK]);
    while padding > 0 {
        let n = padding.min(OVERSIZED_CHUNK);
        chunks.push_back(block.slice(..n));
        padding -= n;
    }
    chunks.push_back(Bytes::from_static(suffix));
    chunks
}

/// Sends a plan: a reply, or a fault built around its base reply.
pub(crate) async fn respond(plan: Plan, conn: &ConnInfo) -> Response {
    let (fault, base, location) = match plan {
        Plan::Reply(r) => return from_reply(r),
        Plan::Fault {
            fault,
            base,
            location,
        } => (fault, base, location),
    };
    match fault {
        Fault::Stall(d) => {
            tokio::time::sleep(d).await;
            from_reply(base)
        }
        Fault::Reset => {
            let half = base.body.len() / 2;
            let body = FaultBody {
                chunks: VecDeque::from([Bytes::copy_from_slice(&base.body[..half.max(1)])]),
                pause: Some(Box::pin(tokio::time::sleep(CUT_DELAY))),
                end: BodyEnd::Reset(Arc::clone(&conn.reset)),
            };
            build(
                base.status,
                base.content_type,
                &base.headers,
                Body::new(body),
            )
        }
        Fault::TruncatedBody => {
            let half = base.body.len() / 2;
            let body = FaultBody {
                chunks: VecDeque::from([Bytes::copy_from_slice(&base.body[..half])]),
                pause: Some(Box::pin(tokio::time::sleep(CUT_DELAY))),
                end: BodyEnd::Finish,
            };
            let mut headers = base.headers.clone();
            headers.push(("content-length", base.body.len().to_string()));
            build(base.status, base.content_type, &headers, Body::new(body))
        }
        Fault::BadGateway => build(
            StatusCode::BAD_GATEWAY,
            "text/html",
            &[],
            Body::from(gateway_page(StatusCode::BAD_GATEWAY)),
        ),
        Fault::ServiceUnavailable(retry) => build(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/html",
            &retry_after_headers(retry),
            Body::from(gateway_page(StatusCode::SERVICE_UNAVAILABLE)),
        ),
        Fault::TooManyRequests(retry) => build(
            StatusCode::TOO_MANY_REQUESTS,
            "text/plain; charset=utf-8",
            &retry_after_headers(retry),
            Body::from("Too Many Requests\n"),
        ),
        Fault::OversizedBody(total) => {
            let body = FaultBody {
                chunks: oversized_chunks(total),
                pause: None,
                end: BodyEnd::Finish,
            };
            build(
                base.status,
                "application/json; charset=utf-8",
                &[],
                Body::new(body),
            )
        }
        Fault::InvalidUtf8 => {
            let body = mangle_utf8(&base);
            build(
                base.status,
                base.content_type,
                &base.headers,
                Body::from(body),
            )
        }
        Fault::WrongContentType => {
            let wrong = if base.is_json() {
                "text/html; charset=utf-8"
            } else {
                "application/json"
            };
            build(base.status, wrong, &base.headers, Body::from(base.body))
        }
        Fault::Redirect => build(
            StatusCode::FOUND,
            "text/plain; charset=utf-8",
            &[("location", location)],
            Body::from("Found\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_sizes() {
        let total: usize = oversized_chunks(4 << 20).iter().map(|c| c.len()).sum();
        assert_eq!(total, 4 << 20);
    }
}
