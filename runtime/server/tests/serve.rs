//! The server over real sockets: slow and idle clients cannot hold it.

use std::sync::Arc;
use std::time::Duration;

use jan_assistant::DataDir;
use jan_events::Bus;
use jan_host::{Host, NoModels};
use jan_server::{AppState, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(root: &std::path::Path, limits: Limits) -> std::net::SocketAddr {
    let data = DataDir::at(root);
    data.ensure().unwrap();
    let state = AppState {
        host: Host::new(Bus::new(), Arc::new(NoModels)),
        store: jan_store::Store::open(data.threads()).unwrap(),
        data,
        api_key: None,
        access: Default::default(),
        active: Default::default(),
        replays: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(jan_server::serve_with(
        state,
        listener,
        limits,
        std::future::pending(),
    ));
    addr
}

/// Reads until the server closes the connection (true) or `wait` passes.
async fn closed_within(c: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let end = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(end, c.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

async fn health(addr: std::net::SocketAddr) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_and_idle_clients_are_cut_off_and_the_connection_cap_holds() {
    let t = tempfile::tempdir().unwrap();
    let addr = start(
        t.path(),
        Limits {
            max_connections: 4,
            header_timeout: Duration::from_millis(400),
            ..Limits::default()
        },
    )
    .await;
    // Slow loris: headers that never end; and a socket that says nothing.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut slow, Duration::from_secs(10)).await);
    assert!(closed_within(&mut idle, Duration::from_secs(10)).await);
    assert!(health(addr).await.contains("200 OK"));

    // Four connections hold every slot: a fifth is closed at once, and
    // once one of the four is gone a request is served again.
    let t2 = tempfile::tempdir().unwrap();
    let addr = start(
        t2.path(),
        Limits {
            max_connections: 4,
            header_timeout: Duration::from_secs(30),
            ..Limits::default()
        },
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fifth = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut fifth, Duration::from_secs(10)).await);
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(health(addr).await.contains("200 OK"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_stops_arriving_is_a_408_not_a_held_request() {
    let t = tempfile::tempdir().unwrap();
    let addr = start(
        t.path(),
        Limits {
            body_timeout: Duration::from_millis(400),
            ..Limits::default()
        },
    )
    .await;
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"POST /v1/threads HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"metadata\": ")
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&out).contains("}}") {
        match tokio::time::timeout_at(end, c.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(out.contains("\"type\":\"invalid_request_error\""), "{out}");
    // Nothing was written, and the server still answers.
    assert!(
        std::fs::read_dir(t.path().join("threads"))
            .unwrap()
            .next()
            .is_none()
    );
    assert!(health(addr).await.contains("200 OK"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hyper_own_errors_leave_as_json() {
    let t = tempfile::tempdir().unwrap();
    let addr = start(t.path(), Limits::default()).await;
    let many: String = (0..150).map(|i| format!("X-{i}: a\r\n")).collect();
    // Well past hyper's buffer limit (about 400 KB, checked between reads).
    let huge = format!("X-Big: {}\r\n", "a".repeat(2_000_000));
    let get = |extra: &str| format!("GET /v1/models HTTP/1.1\r\nHost: localhost\r\n{extra}\r\n");
    let cases = [
        ("431", get(&many)),
        ("431", get(&huge)),
        (
            "414",
            format!(
                "GET /v1/models?x={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "a".repeat(70_000)
            ),
        ),
        ("400", get("Bad Header: x\r\n")),
    ];
    for (status, head) in cases {
        let mut c = TcpStream::connect(addr).await.unwrap();
        // The server may answer and close before it has read it all.
        let _ = c.write_all(head.as_bytes()).await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut out)).await;
        let out = String::from_utf8_lossy(&out);
        assert!(
            out.starts_with(&format!("HTTP/1.1 {status} ")),
            "{status}: {}",
            &out[..out.len().min(300)]
        );
        assert!(out.contains("content-type: application/json"), "{out}");
        let body = out.split("\r\n\r\n").nth(1).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    }
    // Ordinary requests and their bodies pass through untouched.
    assert!(health(addr).await.contains("200 OK"));
}
