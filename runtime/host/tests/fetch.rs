//! `fetch` in assistant code against a real HTTP server on loopback: what
//! works with a grant, and every URL form that must be refused without one.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{ask, assistant, host};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A small HTTP/1.1 server: one request per connection.
async fn server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve(conn, addr));
        }
    });
    addr
}

async fn serve(mut conn: TcpStream, addr: SocketAddr) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let Ok(n) = conn.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default().to_string();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let Ok(n) = conn.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let reply = |status: &str, extra: &str, body: &[u8]| {
        let mut out = format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{extra}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out
    };
    let out = match path.as_str() {
        "/hello" => reply(
            "200 OK",
            "content-type: text/plain\r\nx-test: 1\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n",
            b"hello from the server",
        ),
        "/echo" => {
            let v = json!({
                "method": method,
                "headers": headers.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
                "body": String::from_utf8_lossy(&body),
            });
            reply(
                "200 OK",
                "content-type: application/json\r\n",
                v.to_string().as_bytes(),
            )
        }
        "/redirect-in" => reply("302 Found", "location: /hello\r\n", b""),
        "/redirect-out" => reply(
            "302 Found",
            &format!("location: http://localhost:{}/hello\r\n", addr.port()),
            b"",
        ),
        "/big" => reply("200 OK", "", &vec![b'x'; 3 << 20]),
        // Server-sent events: a first stream that ends (so the client
        // reconnects), then one that answers with the Last-Event-ID.
        "/sse" => {
            let last = headers
                .iter()
                .find(|(k, _)| k == "last-event-id")
                .map(|(_, v)| v.clone());
            let body = match last {
                None => ": a comment\r\nretry: 50\r\ndata: one\r\ndata: two\r\nid: 7\r\n\r\nevent: custom\ndata: three\n\n".to_string(),
                Some(id) => format!("data: again after {id}\n\n"),
            };
            reply(
                "200 OK",
                "content-type: text/event-stream\r\n",
                body.as_bytes(),
            )
        }
        "/not-sse" => reply("200 OK", "content-type: text/plain\r\n", b"data: x\n\n"),
        "/slow" => {
            // Headers, then a byte every 50 ms, for a long time.
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
                .await;
            for _ in 0..100_000 {
                if conn.write_all(b"s").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            return;
        }
        _ => reply("404 Not Found", "", b"no such page"),
    };
    let _ = conn.write_all(&out).await;
}

/// An assistant that runs the JS `body` (given `base`, the server's URL,
/// and `q`, the question) and answers with its result as JSON; errors
/// come back as `{ error, name }`.
fn fetcher(root: &std::path::Path, name: &str, net: &[&str], body: &str) -> std::path::PathBuf {
    let manifest = json!({"permissions": {"net": net}}).to_string();
    let code = format!(
        r#"import {{ events, assistant }} from "@janhq/core";
events.on("assistant:" + assistant.id, async (e) => {{
  const [base, q] = JSON.parse(e.messages[0].content);
  try {{
    const out = await (async () => {{ {body} }})();
    return JSON.stringify(out ?? null);
  }} catch (err) {{
    return JSON.stringify({{ error: String(err && err.message || err), name: err && err.name }});
  }}
}});"#
    );
    assistant(
        root,
        name,
        &[("assistant.json", &manifest), ("src/index.js", &code)],
    )
}

async fn run(h: &jan_host::Host, id: &str, base: &str, q: &str) -> Value {
    let text = ask(h, id, &json!([base, q]).to_string()).await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_with_a_grant_reads_text_json_headers_and_streams() {
    let addr = server().await;
    let base = format!("http://{addr}");
    let t = tempfile::tempdir().unwrap();
    let grant = addr.to_string();
    let dir = fetcher(
        t.path(),
        "client",
        &[&grant],
        r#"
  if (q === "text") {
    const r = await fetch(base + "/hello");
    return { status: r.status, ok: r.ok, type: r.headers.get("content-type"), x: r.headers.get("X-Test"),
             cookies: r.headers.getSetCookie(), text: await r.text(), used: r.bodyUsed, url: r.url };
  }
  if (q === "post") {
    const r = await fetch(new Request(base + "/echo", { method: "post", headers: { "X-Mine": "yes" }, body: JSON.stringify({ a: 1 }) }));
    return await r.json();
  }
  if (q === "stream") {
    const r = await fetch(base + "/big");
    let n = 0, chunks = 0;
    for await (const c of r.body) { n += c.byteLength; chunks++; }
    return { n, chunks };
  }
  if (q === "redirects") {
    const followed = await fetch(base + "/redirect-in");
    const manual = await fetch(base + "/redirect-in", { redirect: "manual" });
    let error;
    try { await fetch(base + "/redirect-in", { redirect: "error" }); } catch (e) { error = e.message; }
    return { followed: [followed.status, followed.redirected, await followed.text()],
             manual: [manual.status, manual.headers.get("location")], error };
  }
  if (q === "abort") {
    const c = new AbortController();
    const r = await fetch(base + "/slow", { signal: c.signal });
    const reader = r.body.getReader();
    const first = await reader.read();
    c.abort();
    try { await reader.read(); return "kept reading"; } catch (e) { return { first: first.value.length, name: e.name }; }
  }
  if (q === "leak") {
    const kept = [];
    try {
      for (let i = 0; i < 70; i++) kept.push(await fetch(base + "/hello"));
      return "no limit";
    } catch (e) {
      const n = kept.length;
      for (const r of kept) await r.text();
      const again = await fetch(base + "/hello");
      // Earlier unread bodies of this assistant (the manual redirect's)
      // count too.
      return [n > 50 && n <= 64, e.message.includes("64 fetches are open"), again.status];
    }
  }
  if (q === "404") {
    const r = await fetch(base + "/nope");
    return [r.status, r.ok, await r.text()];
  }
"#,
    );
    let h = host();
    h.load(&dir).unwrap();
    let text = run(&h, "client", &base, "text").await;
    assert_eq!(
        text,
        json!({"status": 200, "ok": true, "type": "text/plain", "x": "1", "cookies": ["a=1", "b=2"],
               "text": "hello from the server", "used": true, "url": format!("{base}/hello")})
    );
    let post = run(&h, "client", &base, "post").await;
    assert_eq!(post["method"], "POST");
    assert_eq!(post["body"], r#"{"a":1}"#);
    let headers = post["headers"].as_array().unwrap();
    assert!(headers.contains(&json!(["x-mine", "yes"])), "{post}");
    assert!(
        headers.contains(&json!(["content-type", "text/plain;charset=UTF-8"])),
        "{post}"
    );
    let stream = run(&h, "client", &base, "stream").await;
    assert_eq!(stream["n"], 3 << 20);
    assert!(stream["chunks"].as_u64().unwrap() > 1, "{stream}");
    let redirects = run(&h, "client", &base, "redirects").await;
    assert_eq!(
        redirects["followed"],
        json!([200, true, "hello from the server"])
    );
    assert_eq!(redirects["manual"], json!([302, "/hello"]));
    assert!(
        redirects["error"].as_str().unwrap().contains("redirect"),
        "{redirects}"
    );
    let abort = run(&h, "client", &base, "abort").await;
    assert_eq!(abort, json!({"first": 1, "name": "AbortError"}));
    assert_eq!(
        run(&h, "client", &base, "404").await,
        json!([404, false, "no such page"])
    );
    // Unread bodies hold connections: past 64 open, fetch says so; reading
    // them frees the slots.
    assert_eq!(
        run(&h, "client", &base, "leak").await,
        json!([true, true, 200])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fetch_refuses_every_url_form_outside_the_grant() {
    let addr = server().await;
    let base = format!("http://{addr}");
    let port = addr.port();
    let t = tempfile::tempdir().unwrap();
    let grant = addr.to_string();
    // Granted the server, but not by other names or ports.
    let narrow = fetcher(
        t.path(),
        "narrow",
        &[&grant],
        "const r = await fetch(q); return { status: r.status };",
    );
    // Granted only a name elsewhere: loopback in any spelling is refused.
    let elsewhere = fetcher(
        t.path(),
        "elsewhere",
        &["api.example.com"],
        "const r = await fetch(q); return { status: r.status };",
    );
    let none = fetcher(
        t.path(),
        "none",
        &[],
        "const r = await fetch(new URL(q)); return { status: r.status };",
    );
    let h = host();
    for d in [&narrow, &elsewhere, &none] {
        h.load(d).unwrap();
    }
    let refused = |v: &Value, what: &str| {
        let e = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: not refused: {v}"));
        assert!(
            e.contains("is not granted; add it to permissions.net in assistant.json")
                || e.contains("unsupported URL scheme"),
            "{what}: {e}"
        );
    };
    // The narrow grant: other ports and names, and a redirect to a name.
    for url in [
        format!("http://127.0.0.1:{}/hello", port.wrapping_add(1)),
        format!("http://localhost:{port}/hello"),
        format!("http://[::1]:{port}/hello"),
        "https://127.0.0.1/hello".to_string(),
    ] {
        refused(&run(&h, "narrow", &base, &url).await, &url);
    }
    let out = run(&h, "narrow", &base, &format!("{base}/redirect-out")).await;
    refused(&out, "redirect-out");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("redirected to http://localhost"),
        "{out}"
    );
    assert_eq!(
        run(&h, "narrow", &base, &format!("{base}/hello")).await,
        json!({"status": 200})
    );
    // Loopback spelled every way, and tricks with user info and fragments.
    for url in [
        format!("http://127.0.0.1:{port}/hello"),
        format!("http://127.1:{port}/hello"),
        format!("http://0x7f.0.0.1:{port}/hello"),
        format!("http://2130706433:{port}/hello"),
        format!("http://0177.0.0.1:{port}/hello"),
        format!("http://[::ffff:127.0.0.1]:{port}/hello"),
        format!("http://api.example.com@127.0.0.1:{port}/hello"),
        format!("http://127.0.0.1:{port}#@api.example.com/"),
        format!("http://127.0.0.1:{port}\\@api.example.com/"),
        format!("http://api.example.com.localhost:{port}/hello"),
        "file:///etc/passwd".to_string(),
        "data:text/plain,hi".to_string(),
        "ftp://api.example.com/x".to_string(),
    ] {
        refused(&run(&h, "elsewhere", &base, &url).await, &url);
    }
    // No grant at all: nothing, not even the URL object form.
    for url in [
        format!("{base}/hello"),
        "https://api.example.com/".to_string(),
    ] {
        refused(&run(&h, "none", &base, &url).await, &url);
    }
}

/// EventSource: parsing (CRLF/LF, multi-line data, comments, ids, named
/// events, retry), reconnection with Last-Event-ID, and refusals.
#[tokio::test(flavor = "multi_thread")]
async fn event_source_parses_reconnects_and_obeys_the_grants() {
    let addr = server().await;
    let t = tempfile::tempdir().unwrap();
    let dir = fetcher(
        t.path(),
        "sse",
        &[&format!("127.0.0.1:{}", addr.port())],
        r#"
  if (q === "stream") {
    const es = new EventSource(base + "/sse");
    const got = [];
    let opened = 0;
    es.onopen = () => opened++;
    await new Promise((resolve) => {
      const take = (e) => {
        got.push([e.type, e.data, e.lastEventId]);
        if (got.length === 3) resolve();
      };
      es.onmessage = take;
      es.addEventListener("custom", take);
    });
    es.close();
    return { got, opened, state: es.readyState };
  }
  const es = new EventSource(q === "wrong-type" ? base + "/not-sse" : "http://127.0.0.1:9/sse");
  await new Promise((resolve) => (es.onerror = resolve));
  return { state: es.readyState };
"#,
    );
    let h = host();
    h.load(&dir).unwrap();
    let base = format!("http://127.0.0.1:{}", addr.port());
    let v = run(&h, "sse", &base, "stream").await;
    assert_eq!(
        v["got"],
        json!([
            ["message", "one\ntwo", "7"],
            ["custom", "three", "7"],
            ["message", "again after 7", "7"]
        ]),
        "{v}"
    );
    assert_eq!(v["opened"], 2, "{v}");
    assert_eq!(v["state"], 2);
    // A wrong content type and a refused host end the source (CLOSED).
    assert_eq!(run(&h, "sse", &base, "wrong-type").await["state"], 2);
    assert_eq!(run(&h, "sse", &base, "refused").await["state"], 2);
}
