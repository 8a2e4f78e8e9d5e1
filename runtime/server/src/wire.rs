//! The connection's bytes. Hyper answers some requests itself, before any
//! handler runs, with a bare error written straight to the socket: 431 for
//! headers past its limits (100 headers, about 400 KB), 414 for a URI over
//! about 64 KB, 400 for a request line or header it cannot parse.
//! [`JsonErrors`] rewrites those responses as OpenAI's error JSON, so that
//! every error leaves in the API's one format.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hyper::rt::{Read, ReadBufCursor, Write};

/// Is `buf` one of hyper's own bare errors: a whole 4xx head, short, with
/// an empty body and no content type (every response of ours has one)?
fn is_bare_error(buf: &[u8]) -> Option<u16> {
    if buf.len() > 512 || !buf.starts_with(b"HTTP/1.1 4") || !buf.ends_with(b"\r\n\r\n") {
        return None;
    }
    let head = std::str::from_utf8(buf).ok()?.to_ascii_lowercase();
    if !head.contains("\r\ncontent-length: 0\r\n") || head.contains("content-type") {
        return None;
    }
    head.get(9..12)?.parse().ok()
}

/// A connection whose writes pass through, except hyper's bare errors.
pub struct JsonErrors<T> {
    io: T,
    /// The replacement being written: its bytes, how many are out, and how
    /// many bytes of hyper's to report written once it is.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<T> JsonErrors<T> {
    pub fn new(io: T) -> Self {
        JsonErrors {
            io,
            replacing: None,
        }
    }
}

fn json_error(status: u16) -> Vec<u8> {
    let code =
        axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    let message = match status {
        431 => "Request headers too large: at most 100 headers and about 400 KB.",
        414 => "The request URI is too long.",
        _ => "Malformed request: its request line or a header could not be read.",
    };
    let body = crate::error::ApiError::new(code, "invalid_request_error", message)
        .body()
        .to_string();
    format!(
        "HTTP/1.1 {} {}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error"),
        body.len()
    )
    .into_bytes()
}

impl<T: Write + Unpin> Write for JsonErrors<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        // Hyper's error is the only thing it writes on such a connection.
        if this.replacing.is_none()
            && let Some(status) = is_bare_error(buf)
        {
            this.replacing = Some((json_error(status), 0, buf.len()));
        }
        let Some((bytes, done, report)) = this.replacing.as_mut() else {
            return Pin::new(&mut this.io).poll_write(cx, buf);
        };
        while *done < bytes.len() {
            match ready!(Pin::new(&mut this.io).poll_write(cx, &bytes[*done..])) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => *done += n,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let n = (*report).min(buf.len());
        this.replacing = None;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    /// One buffer per write: hyper then writes its error whole, where it
    /// can be recognized.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

impl<T: Read + Unpin> Read for JsonErrors<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}
