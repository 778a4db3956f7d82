//! Splitting a URL into the fields of OCSF's `url` object, and telling an IP
//! address from a host name for `network_endpoint`.
//!
//! Only the generic syntax of RFC 3986 is read (`scheme://authority/path?query
//! #fragment`); no normalisation, percent-decoding or IDNA, because the SIEM
//! should see the URL the agent used. Text that is not such a URL keeps only
//! its `url_string`.

use serde_json::{Map, Value, json};
use std::net::IpAddr;

/// OCSF `url` for `text`.
pub fn url_object(text: &str) -> Value {
    let mut url = Map::new();
    url.insert("url_string".into(), json!(text));
    if let Some(parts) = split(text) {
        url.insert("scheme".into(), json!(parts.scheme));
        if !parts.host.is_empty() {
            url.insert("hostname".into(), json!(parts.host));
        }
        if let Some(port) = parts.port {
            url.insert("port".into(), json!(port));
        }
        if !parts.path.is_empty() {
            url.insert("path".into(), json!(parts.path));
        }
        if let Some(query) = parts.query {
            url.insert("query_string".into(), json!(query));
        }
    }
    Value::Object(url)
}

/// The host a URL names (without brackets around an IPv6 address).
pub fn host_of(text: &str) -> Option<&str> {
    split(text).map(|parts| parts.host).filter(|host| !host.is_empty())
}

/// `network_endpoint` fields for a host: `ip` when it is an address, else
/// `hostname`.
pub fn endpoint_host(host: &str) -> (&'static str, String) {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    match bare.parse::<IpAddr>() {
        Ok(ip) => ("ip", ip.to_string()),
        Err(_) => ("hostname", host.to_owned()),
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
    query: Option<&'a str>,
}

fn split(text: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = text.split_once("://")?;
    let mut chars = scheme.chars();
    if !chars.next()?.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
        return None;
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    // Credentials before an `@` are not the host (and a redactor may have
    // masked them already).
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let (address, after) = v6.split_once(']')?;
        (address, after.strip_prefix(':'))
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    // An empty port (`host:`) means the scheme's default; anything else must
    // be a port number.
    let port = match port.filter(|p| !p.is_empty()) {
        Some(digits) => Some(digits.parse::<u16>().ok()?),
        None => None,
    };
    Some(Parts { scheme, host, port, path, query })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_generic_syntax() {
        assert_eq!(
            url_object("https://user:[REDACTED]@api.example.com:8443/v1/items?a=1&b=2#frag"),
            json!({"url_string": "https://user:[REDACTED]@api.example.com:8443/v1/items?a=1&b=2#frag",
                   "scheme": "https", "hostname": "api.example.com", "port": 8443, "path": "/v1/items",
                   "query_string": "a=1&b=2"})
        );
        assert_eq!(
            url_object("http://[2001:db8::1]:80/"),
            json!({"url_string": "http://[2001:db8::1]:80/", "scheme": "http", "hostname": "2001:db8::1", "port": 80,
                   "path": "/"})
        );
        assert_eq!(
            url_object("s3://bucket?list"),
            json!({"url_string": "s3://bucket?list", "scheme": "s3", "hostname": "bucket", "query_string": "list"})
        );
    }

    #[test]
    fn what_is_not_a_url_keeps_only_its_text() {
        for text in ["pastebin.com/api", "https://host:99999/", "1http://x/", "", "://x", "http://[::1/"] {
            assert_eq!(url_object(text), json!({"url_string": text}), "{text}");
        }
    }

    #[test]
    fn hosts_and_addresses() {
        assert_eq!(host_of("https://pastebin.com/api/api_post.php"), Some("pastebin.com"));
        assert_eq!(host_of("file:///etc/passwd"), None);
        assert_eq!(endpoint_host("10.1.2.3"), ("ip", "10.1.2.3".to_owned()));
        assert_eq!(endpoint_host("[2001:db8::1]"), ("ip", "2001:db8::1".to_owned()));
        assert_eq!(endpoint_host("s3.eu-west-1.amazonaws.com"), ("hostname", "s3.eu-west-1.amazonaws.com".to_owned()));
    }
}
