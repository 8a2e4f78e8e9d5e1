//! The connection's bytes. Hyper answers a request whose headers pass its
//! limits (100 headers, about 400 KB) with a bare 431 of its own, written
//! straight to the socket before any handler runs; [`JsonErrors`] rewrites
//! that one response as OpenAI's error JSON, so that every error leaves in
//! the API's one format.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use hyper::rt::{Read, ReadBufCursor, Write};

/// Hyper's own 431, as it starts on the wire.
const HYPER_431: &[u8] = b"HTTP/1.1 431 ";

/// A connection whose writes pass through, except hyper's bare 431.
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

fn json_431() -> Vec<u8> {
    let body = crate::error::ApiError::new(
        axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "invalid_request_error",
        "Request headers too large: at most 100 headers and about 400 KB.",
    )
    .body()
    .to_string();
    format!(
        "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
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
        // Hyper's error is the first and last thing it writes on a
        // connection; bodies (JSON, event streams) never start like it.
        if this.replacing.is_none() && buf.starts_with(HYPER_431) && buf.ends_with(b"\r\n\r\n") {
            this.replacing = Some((json_431(), 0, buf.len()));
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

    /// One buffer per write: hyper then writes its 431 whole, where it can
    /// be recognized.
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
