//! Which browsers may talk to the server. A server on loopback is reachable
//! by every web page the user opens: a page on another site can send
//! requests to it (and, through DNS rebinding, even read the answers under
//! its own name). Two checks keep such pages out, as llama.cpp's and
//! Ollama's servers do:
//!
//! - the `Host` a request names must be one the server answers to
//!   (loopback names, an IP address, `--allowed-hosts`): a rebinding
//!   attack always names the attacker's domain;
//! - a request from a page (it carries `Origin`) must come from an allowed
//!   origin (loopback pages on any port, `--cors-origins`), or it is
//!   refused before it runs: CORS alone only hides answers, it does not
//!   stop a page's "simple" POSTs from being acted on.
//!
//! Clients that are not browsers (the SDKs, curl) send no `Origin`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

#[derive(Clone, Debug, Default)]
pub struct Access {
    any_host: bool,
    /// Lowercase host names, without ports, besides loopback's.
    hosts: Vec<String>,
    any_origin: bool,
    /// Lowercase origins (`scheme://host[:port]`), besides loopback pages.
    origins: Vec<String>,
}

impl Access {
    /// `hosts` and `origins` as given on the command line (`*`: any); the
    /// loopback ones are always allowed.
    pub fn new(hosts: &[String], origins: &[String]) -> Access {
        let norm = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (hosts, origins) = (norm(hosts), norm(origins));
        Access {
            any_host: hosts.iter().any(|h| h == "*"),
            hosts: hosts.iter().map(|h| host_name(h).to_string()).collect(),
            any_origin: origins.iter().any(|o| o == "*"),
            origins,
        }
    }

    /// Also answer to `host` (a name the server is bound to).
    pub fn with_host(mut self, host: &str) -> Access {
        let host = host.to_ascii_lowercase();
        let name = if host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{host}]")
        } else {
            host_name(&host).to_string()
        };
        self.hosts.push(name);
        self
    }

    /// May a request naming `host` (a `Host` header, maybe with a port) be
    /// served?
    pub fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = host_name(&host);
        self.any_host || is_loopback(name) || is_ip(name) || self.hosts.iter().any(|h| h == name)
    }

    /// May a page from `origin` call the API?
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if self.any_origin || self.origins.contains(&origin) {
            return true;
        }
        // `scheme://host[:port]`; `null` (files, sandboxed frames) has no host.
        let Some((_, rest)) = origin.split_once("://") else {
            return false;
        };
        is_loopback(host_name(rest))
    }
}

/// `name` from `name:port`, `[v6]:port`, `name.` (the root dot).
fn host_name(host: &str) -> &str {
    let h = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(name, _)| name)
    };
    h.strip_suffix('.').unwrap_or(h)
}

/// An IP literal (`1.2.3.4`, `[::1]`): no DNS name to rebind.
fn is_ip(name: &str) -> bool {
    name.parse::<std::net::Ipv4Addr>().is_ok() || v6(name).is_some()
}

/// The address in `[v6]`.
fn v6(name: &str) -> Option<std::net::Ipv6Addr> {
    name.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

fn is_loopback(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || v6(name).is_some_and(|ip| {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        })
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The middleware: refuses a foreign `Host` or `Origin` with 403 (OpenAI's
/// error JSON) before anything else runs.
pub async fn guard(
    State(state): State<AppState>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => return bad_host("more than one Host header"),
        (Some(h), None) => match h.to_str() {
            Ok(h) => Some(h.to_string()),
            Err(_) => return bad_host("a Host header that is not text"),
        },
        (None, _) => req.uri().authority().map(|a| a.to_string()),
    };
    if let Some(host) = host
        && !state.access.host_allowed(&host)
    {
        return forbidden(format!(
            "Host '{host}' is not allowed. If you meant to serve it, start jan serve with --allowed-hosts {}.",
            host_name(&host.to_ascii_lowercase())
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN)
        && !state
            .access
            .origin_allowed(origin.to_str().unwrap_or("null"))
    {
        let origin = origin.to_str().unwrap_or("?");
        return forbidden(format!(
            "Requests from web pages at '{origin}' are not allowed. To allow them, start jan serve with --cors-origins {origin}."
        ));
    }
    next.run(req).await
}

fn bad_host(what: &str) -> Response {
    ApiError::invalid(None, format!("The request has {what}.")).into_response()
}

fn forbidden(message: String) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, "permission_error", message)
        .with_code("forbidden_origin")
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_origins_are_allowed_and_others_refused() {
        let a = Access::new(&[], &[]);
        for h in [
            "localhost",
            "localhost:1337",
            "127.0.0.1:1337",
            "127.3.4.5",
            "[::1]:1337",
            "LOCALHOST.",
            "app.localhost",
        ] {
            assert!(a.host_allowed(h), "{h}");
        }
        for h in [
            "evil.com",
            "evil.com:1337",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "1.2.3.4.evil.com",
        ] {
            assert!(!a.host_allowed(h), "{h}");
        }
        // IP literals name no domain to rebind: LAN clients of a server
        // bound to 0.0.0.0 get through.
        for h in [
            "10.0.0.5:1337",
            "[::2]",
            "0.0.0.0:1337",
            "[::ffff:127.0.0.1]:1",
            "[0:0:0:0:0:0:0:1]",
        ] {
            assert!(a.host_allowed(h), "{h}");
        }
        for o in [
            "http://localhost:3000",
            "https://127.0.0.1",
            "http://[::1]:8080",
            "tauri://localhost",
        ] {
            assert!(a.origin_allowed(o), "{o}");
        }
        for o in [
            "https://evil.com",
            "null",
            "http://localhost.evil.com",
            "file://",
        ] {
            assert!(!a.origin_allowed(o), "{o}");
        }
    }

    #[test]
    fn allowed_lists_and_wildcards_widen_them() {
        let a = Access::new(&["My-Box.lan".into()], &["https://app.example.com/".into()])
            .with_host("box.example");
        assert!(a.host_allowed("my-box.lan:1337"));
        assert!(a.host_allowed("box.example:1337"));
        assert!(!a.host_allowed("other.lan"));
        assert!(a.origin_allowed("https://app.example.com"));
        assert!(!a.origin_allowed("https://app.example.com.evil.com"));
        let any = Access::new(&["*".into()], &["*".into()]);
        assert!(any.host_allowed("anything:1") && any.origin_allowed("https://x.y"));
    }
}
