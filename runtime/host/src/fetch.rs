//! The network side of `fetch` for assistant code: HTTP and HTTPS through
//! reqwest, each URL checked against `permissions.net` before a connection
//! is made, and again at every redirect hop. The JS side
//! (`js-prelude/40_fetch.js`) builds `Request`, `Response` and `Headers` on
//! these ops.
//!
//! A granted host *name* may only lead to public addresses: names are
//! resolved by jan, and loopback, private, link-local and other
//! non-public answers are refused unless `permissions.net` grants that
//! address itself (or the name is `localhost`). So a name whose DNS an
//! attacker controls cannot be turned on the machine's own services or a
//! cloud metadata endpoint (DNS rebinding).
//!
//! A request runs as a task on the isolate's own runtime; its body comes
//! back in chunks through a small bounded queue, so a large download is
//! never held whole in Rust and a slow reader slows the download.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use deno_core::{OpState, ToJsBuffer, op2};
use deno_error::JsErrorBox;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::ext::Ctx;
use crate::permissions::{Denied, Permissions};

/// At most this many redirects are followed (the fetch standard's limit).
const MAX_REDIRECTS: usize = 20;
/// How many body chunks wait between the network and the JS.
const CHUNKS_AHEAD: usize = 8;
/// How many fetches one isolate may have open (a response whose body is
/// neither read to its end nor cancelled stays open until collected).
const MAX_OPEN: usize = 64;
/// How long connecting may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Is `url` a scheme fetch speaks, to a host the assistant may reach?
pub fn check_url(permissions: &Permissions, url: &url::Url) -> Result<(), Denied> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Denied(format!(
            "fetch: unsupported URL scheme '{}:' (http and https only)",
            url.scheme()
        )));
    }
    // The url crate has already normalized the host (IPv4 in any notation,
    // IPv6 compressed, names lowercased and punycoded), so `http://0x7f.1`
    // is checked as 127.0.0.1.
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(Denied(format!("fetch: {url} has no host"))),
    };
    let port = url.port_or_known_default().unwrap_or(0);
    permissions.check_net(&host, port)
}

/// Is `ip` an address on the public internet (not this machine, not a
/// private network, not link-local, multicast or reserved)?
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::{IpAddr, Ipv4Addr};
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
                || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let v4 = |hi: u16, lo: u16| {
                IpAddr::V4(Ipv4Addr::new(
                    (hi >> 8) as u8,
                    hi as u8,
                    (lo >> 8) as u8,
                    lo as u8,
                ))
            };
            // Addresses that carry an IPv4 address are as public as it is:
            // IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4.
            if s[..6] == [0; 6] && !v6.is_loopback() && !v6.is_unspecified() {
                return is_public(v4(s[6], s[7]));
            }
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public(v4(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(v4(s[1], s[2]));
            }
            let first = s[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local
                || (first == 0x64 && s[1] == 0xff9b) // local-use NAT64 (64:ff9b:1::/48)
                || (first == 0x2001 && s[1] == 0) // Teredo
                || (first == 0x2001 && s[1] == 0x0db8) // documentation
                || (first == 0x0100 && s[1..4] == [0, 0, 0])) // discard-only
        }
    }
}

/// The addresses a connection to the granted name `name` may use, of those
/// it resolved to: public ones, and others only where the grants name the
/// address itself. `localhost` names are loopback by definition (RFC 6761).
pub fn allowed_addrs(
    permissions: &Permissions,
    name: &str,
    addrs: Vec<std::net::SocketAddr>,
) -> Result<Vec<std::net::SocketAddr>, Denied> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let localhost = name == "localhost" || name.ends_with(".localhost");
    let (ok, refused): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|a| {
        is_public(a.ip())
            || (localhost && a.ip().to_canonical().is_loopback())
            || permissions.grants_address(a.ip())
    });
    if ok.is_empty()
        && let Some(first) = refused.first()
    {
        return Err(Denied(format!(
            "net access to {name} is refused: it resolves to {}, a non-public address; add that address to permissions.net in assistant.json to allow it",
            first.ip()
        )));
    }
    Ok(ok)
}

/// reqwest's resolver for assistant fetches: the system's answer, filtered
/// by [`allowed_addrs`].
struct GuardedResolver {
    permissions: Arc<Permissions>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let permissions = self.permissions.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let ok = allowed_addrs(&permissions, &host, addrs)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            Ok(Box::new(ok.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The clients of one isolate: one follows redirects (checking each hop),
/// one hands them back (`redirect: "manual"` and `"error"`).
pub(crate) struct Clients {
    follow: reqwest::Client,
    manual: reqwest::Client,
}

impl Clients {
    pub fn new(permissions: Arc<Permissions>) -> Result<Clients, String> {
        let resolver = Arc::new(GuardedResolver {
            permissions: permissions.clone(),
        });
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error(format!("fetch: more than {MAX_REDIRECTS} redirects"));
            }
            match check_url(&permissions, attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(e) => {
                    let message = format!("redirected to {}: {e}", attempt.url());
                    attempt.error(message)
                }
            }
        });
        // No proxy from the environment: a proxy would make the grant's
        // host not the one connected to.
        let build = |p| {
            reqwest::Client::builder()
                .redirect(p)
                .dns_resolver(resolver.clone())
                .no_proxy()
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("jan/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| e.to_string())
        };
        Ok(Clients {
            follow: build(policy)?,
            manual: build(reqwest::redirect::Policy::none())?,
        })
    }
}

/// One fetch in flight.
pub(crate) struct Fetch {
    head: Option<oneshot::Receiver<Result<Head, String>>>,
    body: Rc<RefCell<mpsc::Receiver<Result<bytes::Bytes, String>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fetch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Default)]
pub(crate) struct Fetches {
    next: u32,
    open: HashMap<u32, Fetch>,
    clients: Option<Rc<Clients>>,
}

#[derive(Deserialize)]
pub(crate) struct FetchRequest {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    /// `follow`, `manual` or `error`.
    redirect: String,
    has_body: bool,
}

#[derive(Serialize)]
pub(crate) struct Head {
    status: u16,
    status_text: String,
    url: String,
    headers: Vec<(String, String)>,
}

fn type_error(e: impl std::fmt::Display) -> JsErrorBox {
    JsErrorBox::type_error(format!("fetch: {e}"))
}

/// The message of a reqwest error with its causes (a redirect refused by
/// the policy is a cause, not the top message).
fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Starts a request; returns its handle. Refused URLs throw before any
/// connection is made.
#[op2]
#[smi]
pub fn op_jan_fetch_start(
    state: &mut OpState,
    #[serde] req: FetchRequest,
    #[buffer(copy)] body: Vec<u8>,
) -> Result<u32, JsErrorBox> {
    let c = state.borrow_mut::<Ctx>();
    if c.fetches.open.len() >= MAX_OPEN {
        return Err(type_error(format!(
            "{MAX_OPEN} fetches are open in this assistant; read or cancel response bodies you do not need"
        )));
    }
    let url = url::Url::parse(&req.url)
        .map_err(|e| type_error(format!("invalid URL '{}': {e}", req.url)))?;
    check_url(&c.permissions, &url).map_err(|e| JsErrorBox::generic(e.0))?;
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| type_error(format!("invalid method '{}'", req.method)))?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &req.headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| type_error(format!("invalid header name '{k}'")))?;
        let value = reqwest::header::HeaderValue::from_str(v)
            .map_err(|_| type_error(format!("invalid value for header '{k}'")))?;
        headers.append(name, value);
    }
    let clients = match &c.fetches.clients {
        Some(cl) => cl.clone(),
        None => {
            let cl = Rc::new(Clients::new(Arc::new(c.permissions.clone())).map_err(type_error)?);
            c.fetches.clients = Some(cl.clone());
            cl
        }
    };
    let client = if req.redirect == "follow" {
        &clients.follow
    } else {
        &clients.manual
    };
    let mut builder = client.request(method, url.clone()).headers(headers);
    if req.has_body {
        builder = builder.body(body);
    }
    let request = builder.build().map_err(|e| type_error(describe(&e)))?;
    let client = client.clone();
    let (head_tx, head_rx) = oneshot::channel();
    let (body_tx, body_rx) = mpsc::channel(CHUNKS_AHEAD);
    let task = tokio::spawn(async move {
        let mut response = match client.execute(request).await {
            Ok(r) => r,
            Err(e) => {
                let _ = head_tx.send(Err(describe(&e)));
                return;
            }
        };
        let head = Head {
            status: response.status().as_u16(),
            status_text: response
                .status()
                .canonical_reason()
                .unwrap_or_default()
                .to_string(),
            url: response.url().to_string(),
            headers: response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        };
        if head_tx.send(Ok(head)).is_err() {
            return;
        }
        loop {
            let next = match response.chunk().await {
                Ok(Some(b)) => Ok(b),
                Ok(None) => break,
                Err(e) => Err(describe(&e)),
            };
            let failed = next.is_err();
            if body_tx.send(next).await.is_err() || failed {
                break;
            }
        }
    });
    let f = &mut c.fetches;
    f.next += 1;
    f.open.insert(
        f.next,
        Fetch {
            head: Some(head_rx),
            body: Rc::new(RefCell::new(body_rx)),
            task,
        },
    );
    Ok(f.next)
}

/// The response's status line and headers, once they arrive.
#[op2]
#[serde]
pub async fn op_jan_fetch_response(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: u32,
) -> Result<Head, JsErrorBox> {
    let head = state
        .borrow_mut()
        .borrow_mut::<Ctx>()
        .fetches
        .open
        .get_mut(&rid)
        .and_then(|f| f.head.take())
        .ok_or_else(|| type_error("the request was aborted"))?;
    match head.await {
        Ok(Ok(h)) => Ok(h),
        Ok(Err(e)) => Err(type_error(e)),
        Err(_) => Err(type_error("the request was aborted")),
    }
}

/// The next piece of the body, or null at its end.
#[op2]
#[serde]
pub async fn op_jan_fetch_read(
    state: Rc<RefCell<OpState>>,
    #[smi] rid: u32,
) -> Result<Option<ToJsBuffer>, JsErrorBox> {
    let rx = state
        .borrow()
        .borrow::<Ctx>()
        .fetches
        .open
        .get(&rid)
        .map(|f| f.body.clone());
    let Some(rx) = rx else { return Ok(None) };
    match std::future::poll_fn(|cx| rx.borrow_mut().poll_recv(cx)).await {
        Some(Ok(b)) => Ok(Some(b.to_vec().into())),
        Some(Err(e)) => Err(type_error(e)),
        None => Ok(None),
    }
}

/// Ends a fetch: stops the download (or the request, if still on its way).
#[op2(fast)]
pub fn op_jan_fetch_close(state: &mut OpState, #[smi] rid: u32) {
    state.borrow_mut::<Ctx>().fetches.open.remove(&rid);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;

    fn permissions(net: &[&str]) -> Permissions {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("netty");
        std::fs::create_dir(&dir).unwrap();
        let json = serde_json::json!({"permissions": {"net": net}});
        std::fs::write(dir.join("assistant.json"), json.to_string()).unwrap();
        let a = jan_assistant::Assistant::load(&dir).unwrap();
        Permissions::of(&a)
    }

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter()
            .map(|a| format!("{a}:0").parse().unwrap())
            .collect()
    }

    #[test]
    fn only_public_addresses_count_as_public() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "2606:4700::1111",
            "93.184.216.34",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "127.9.9.9",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a00:5",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2001:0:4136:e378::1",
            "100::1",
            "192.0.0.8",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    /// DNS rebinding: a granted name that resolves to this machine or a
    /// private network is refused, unless the address itself is granted.
    #[test]
    fn a_granted_name_may_not_lead_to_private_addresses() {
        let p = permissions(&["api.example.com", "10.0.0.5"]);
        let e = allowed_addrs(&p, "api.example.com", addrs(&["[::ffff:127.0.0.1]"])).unwrap_err();
        assert!(e.0.contains("non-public address"), "{e}");
        assert!(allowed_addrs(&p, "api.example.com", addrs(&["169.254.169.254"])).is_err());
        // Public answers pass; private ones among them are dropped.
        assert_eq!(
            allowed_addrs(
                &p,
                "api.example.com",
                addrs(&["127.0.0.1", "93.184.216.34"])
            )
            .unwrap(),
            addrs(&["93.184.216.34"])
        );
        // An address named in the grants may be reached through a name.
        assert_eq!(
            allowed_addrs(&p, "api.example.com", addrs(&["10.0.0.5"])).unwrap(),
            addrs(&["10.0.0.5"])
        );
        // localhost is loopback by definition.
        assert_eq!(
            allowed_addrs(&p, "localhost", addrs(&["127.0.0.1", "[::1]"])).unwrap(),
            addrs(&["127.0.0.1", "[::1]"])
        );
        assert!(allowed_addrs(&p, "localhost", addrs(&["10.0.0.9"])).is_err());
    }
}
