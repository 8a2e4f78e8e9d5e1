//! The network side of `WebSocket` for assistant code (tokio-tungstenite,
//! rustls with webpki roots). The URL is held to `permissions.net` like a
//! fetch: the host and port must be granted, and a granted name may only
//! lead to public addresses unless the address itself is granted (jan
//! resolves the name and connects to the checked address). The JS side is
//! `js-prelude/48_websocket.js`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use deno_core::{OpState, op2};
use deno_error::JsErrorBox;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::ext::Ctx;

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How many sockets one isolate may have open.
const MAX_OPEN: usize = 64;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

struct Socket {
    sink: tokio::sync::Mutex<futures::stream::SplitSink<Stream, Message>>,
    stream: tokio::sync::Mutex<futures::stream::SplitStream<Stream>>,
}

#[derive(Default)]
pub(crate) struct Sockets {
    next: u32,
    open: HashMap<u32, Rc<Socket>>,
    /// Sockets still connecting: they count toward the cap too.
    connecting: usize,
}

/// Holds a connecting socket's place under the cap until it opens or fails.
struct Connecting(Rc<RefCell<OpState>>);

impl Drop for Connecting {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            let c = s.borrow_mut::<Ctx>();
            c.sockets.connecting = c.sockets.connecting.saturating_sub(1);
        }
    }
}

fn error(msg: impl std::fmt::Display) -> JsErrorBox {
    JsErrorBox::generic(msg.to_string())
}

#[derive(Serialize)]
pub struct Opened {
    rid: u32,
    protocol: String,
}

/// Connects; resolves once the handshake is done.
#[op2]
#[serde]
pub async fn op_jan_ws_open(
    state: Rc<RefCell<OpState>>,
    #[string] url: String,
    #[serde] protocols: Vec<String>,
) -> Result<Opened, JsErrorBox> {
    let (permissions, max_bytes) = {
        let mut s = state.borrow_mut();
        let c = s.borrow_mut::<Ctx>();
        if c.sockets.open.len() + c.sockets.connecting >= MAX_OPEN {
            return Err(error(format!(
                "{MAX_OPEN} WebSockets are open in this assistant; close the ones you do not need"
            )));
        }
        c.sockets.connecting += 1;
        (c.permissions.clone(), c.max_bytes)
    };
    let _place = Connecting(state.clone());
    // Resolving, connecting and the handshake share one deadline: a server
    // that accepts and then stalls cannot hold the socket.
    let (ws, protocol) = tokio::time::timeout(
        CONNECT_TIMEOUT,
        connect(&url, &protocols, &permissions, max_bytes),
    )
    .await
    .map_err(|_| error(format!("WebSocket: connecting to {url} timed out")))??;
    let (sink, stream) = ws.split();
    let socket = Rc::new(Socket {
        sink: tokio::sync::Mutex::new(sink),
        stream: tokio::sync::Mutex::new(stream),
    });
    let mut s = state.borrow_mut();
    let c = s.borrow_mut::<Ctx>();
    c.sockets.next += 1;
    let rid = c.sockets.next;
    c.sockets.open.insert(rid, socket);
    Ok(Opened { rid, protocol })
}

async fn connect(
    url: &str,
    protocols: &[String],
    permissions: &crate::permissions::Permissions,
    max_bytes: usize,
) -> Result<(Stream, String), JsErrorBox> {
    let parsed = url::Url::parse(url)
        .map_err(|e| JsErrorBox::new("SyntaxError", format!("invalid URL '{url}': {e}")))?;
    if !matches!(parsed.scheme(), "ws" | "wss") {
        return Err(JsErrorBox::new(
            "SyntaxError",
            format!("WebSocket URLs are ws: or wss:, not '{}:'", parsed.scheme()),
        ));
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(JsErrorBox::new("SyntaxError", format!("{url} has no host"))),
    };
    let port = parsed.port_or_known_default().unwrap_or(80);
    permissions.check_net(&host, port).map_err(|e| error(e.0))?;
    // Resolve here, so the address connected to is the one checked.
    let addrs: Vec<std::net::SocketAddr> = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => {
            let found = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| error(format!("WebSocket: cannot resolve {host}: {e}")))?
                .collect();
            crate::fetch::allowed_addrs(permissions, &host, found).map_err(|e| error(e.0))?
        }
    };
    let tcp = tokio::net::TcpStream::connect(&addrs[..])
        .await
        .map_err(|e| error(format!("WebSocket: cannot connect to {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let mut request = url
        .into_client_request()
        .map_err(|e| JsErrorBox::new("SyntaxError", e.to_string()))?;
    if !protocols.is_empty() {
        let value = protocols.join(", ");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            value.parse().map_err(|_| {
                JsErrorBox::new(
                    "SyntaxError",
                    format!("invalid sub-protocol list '{value}'"),
                )
            })?,
        );
    }
    // A quarter of the heap limit (at most 16 MiB) per message, so several
    // sockets' buffers stay near what one assistant may hold.
    let limit = (max_bytes / 4).min(16 << 20);
    let config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let (ws, response) =
        tokio_tungstenite::client_async_tls_with_config(request, tcp, Some(config), None)
            .await
            .map_err(|e| error(format!("WebSocket: handshake with {url} failed: {e}")))?;
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !protocol.is_empty() && !protocols.contains(&protocol) {
        return Err(error(format!(
            "WebSocket: the server chose sub-protocol '{protocol}', which was not offered"
        )));
    }
    Ok((ws, protocol))
}

fn socket(state: &Rc<RefCell<OpState>>, rid: u32) -> Result<Rc<Socket>, JsErrorBox> {
    state
        .borrow()
        .borrow::<Ctx>()
        .sockets
        .open
        .get(&rid)
        .cloned()
        .ok_or_else(|| error("the WebSocket is closed"))
}

/// Sends a text (`text` set) or binary message.
#[op2]
pub async fn op_jan_ws_send(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: u32,
    #[string] text: Option<String>,
    #[buffer(copy)] binary: Vec<u8>,
) -> Result<(), JsErrorBox> {
    let s = socket(&state, rid)?;
    let message = match text {
        Some(t) => Message::text(t),
        None => Message::binary(binary),
    };
    s.sink.lock().await.send(message).await.map_err(error)
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Incoming {
    Text {
        data: String,
    },
    Binary {
        data: deno_core::ToJsBuffer,
    },
    Close {
        code: u16,
        reason: String,
        clean: bool,
    },
}

/// The next message; `Close` when the connection ends (cleanly or not).
#[op2]
#[serde]
pub async fn op_jan_ws_next(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: u32,
) -> Result<Incoming, JsErrorBox> {
    let s = socket(&state, rid)?;
    let out = loop {
        let next = s.stream.lock().await.next().await;
        match next {
            Some(Ok(Message::Text(t))) => {
                break Incoming::Text {
                    data: t.to_string(),
                };
            }
            Some(Ok(Message::Binary(b))) => {
                break Incoming::Binary {
                    data: Vec::from(b).into(),
                };
            }
            Some(Ok(Message::Close(frame))) => {
                break match frame {
                    Some(f) => Incoming::Close {
                        code: f.code.into(),
                        reason: f.reason.to_string(),
                        clean: true,
                    },
                    None => Incoming::Close {
                        code: 1005,
                        reason: String::new(),
                        clean: true,
                    },
                };
            }
            // Pings are answered by tungstenite; frames are not messages.
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => {
                break Incoming::Close {
                    code: 1006,
                    reason: String::new(),
                    clean: false,
                };
            }
        }
    };
    if matches!(out, Incoming::Close { .. }) {
        state
            .borrow_mut()
            .borrow_mut::<Ctx>()
            .sockets
            .open
            .remove(&rid);
    }
    Ok(out)
}

/// Starts the closing handshake (the close event comes from `next`).
#[op2]
pub async fn op_jan_ws_close(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: u32,
    #[smi] code: u32,
    #[string] reason: String,
) -> Result<(), JsErrorBox> {
    let Ok(s) = socket(&state, rid) else {
        return Ok(());
    };
    let frame = CloseFrame {
        code: (code as u16).into(),
        reason: reason.into(),
    };
    let _ = s.sink.lock().await.send(Message::Close(Some(frame))).await;
    Ok(())
}

/// Drops a socket without a handshake (the isolate is going away, or the
/// JS object was collected).
#[op2(fast)]
pub fn op_jan_ws_drop(state: &mut OpState, #[smi] rid: u32) {
    state.borrow_mut::<Ctx>().sockets.open.remove(&rid);
}
