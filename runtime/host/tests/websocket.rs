//! `WebSocket` in assistant code against a real WebSocket server on
//! loopback (tokio-tungstenite): messages both ways, sub-protocols, the
//! closing handshake, and refusals outside `permissions.net`.

mod common;

use common::{ask, assistant, host};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

/// Echoes every message; "bye" makes it close with 4000 "done". It picks
/// the sub-protocol "chat" when offered.
// tungstenite's handshake callback returns its (large) ErrorResponse.
#[allow(clippy::result_large_err)]
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let pick = |req: &Request, mut res: Response| {
                    let offered = req
                        .headers()
                        .get("sec-websocket-protocol")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if offered.split(',').any(|p| p.trim() == "chat") {
                        res.headers_mut()
                            .insert("sec-websocket-protocol", "chat".parse().unwrap());
                    }
                    Ok(res)
                };
                let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, pick).await else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    match m {
                        Message::Text(t) if t.as_str() == "bye" => {
                            let frame = CloseFrame {
                                code: 4000.into(),
                                reason: "done".into(),
                            };
                            let _ = ws.send(Message::Close(Some(frame))).await;
                        }
                        Message::Text(_) | Message::Binary(_) => {
                            let _ = ws.send(m).await;
                        }
                        // tungstenite answers a close itself; keep reading
                        // until the handshake is done.
                        _ => {}
                    }
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_talks_both_ways_closes_and_obeys_the_grants() {
    let port = echo_server().await;
    let t = tempfile::tempdir().unwrap();
    let manifest = json!({"permissions": {"net": [format!("127.0.0.1:{port}")]}}).to_string();
    let code = r#"import { events, assistant } from "@janhq/core";
events.on("assistant:" + assistant.id, async (e) => {
  const [url, how] = JSON.parse(e.messages[0].content);
  const ws = new WebSocket(url, ["other", "chat"]);
  ws.binaryType = "arraybuffer";
  const got = [];
  await new Promise((resolve) => {
    ws.onopen = () => {
      got.push("open");
      // A close code given as a string is converted, as WebIDL does.
      if (how === "client-close") return ws.close("4001", "enough");
      ws.send("hello");
      const bytes = new Uint8Array([1, 2, 3]);
      ws.send(bytes);
      bytes.fill(9); // send() took a copy
      ws.send("bye");
    };
    let first = true;
    ws.onmessage = (m) => {
      got.push(typeof m.data === "string" ? m.data : [...new Uint8Array(m.data)]);
      // A handler that throws does not stop the socket.
      if (first) {
        first = false;
        throw new Error("a bug in the handler");
      }
    };
    ws.onerror = (err) => got.push("error: " + (err.message ?? ""));
    ws.onclose = (c) => {
      got.push(["close", c.code, c.reason, c.wasClean]);
      resolve();
    };
  });
  return JSON.stringify({ got, protocol: ws.protocol, state: ws.readyState });
});"#;
    let dir = assistant(
        t.path(),
        "socket",
        &[("assistant.json", &manifest), ("src/index.js", code)],
    );
    let h = host();
    h.load(&dir).unwrap();
    let go = |url: String, how: &str| {
        let h = &h;
        let q = json!([url, how]).to_string();
        async move {
            let text = ask(h, "socket", &q).await.unwrap();
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let v = go(format!("ws://127.0.0.1:{port}/"), "echo").await;
    assert_eq!(
        v["got"],
        json!(["open", "hello", [1, 2, 3], ["close", 4000, "done", true]]),
        "{v}"
    );
    assert_eq!(v["protocol"], "chat");
    assert_eq!(v["state"], 3);
    // The client's close runs the handshake; the server echoes the code.
    let v = go(format!("ws://127.0.0.1:{port}/"), "client-close").await;
    assert_eq!(v["got"][1], json!(["close", 4001, "enough", true]), "{v}");
    // Outside the grant: another port, a name instead of the address.
    for url in [
        "ws://127.0.0.1:9/".to_string(),
        format!("ws://localhost:{port}/"),
    ] {
        let v = go(url.clone(), "echo").await;
        assert!(
            v["got"][0].as_str().unwrap().contains("is not granted"),
            "{url}: {v}"
        );
        assert_eq!(v["got"][1], json!(["close", 1006, "", false]), "{url}: {v}");
    }
}
