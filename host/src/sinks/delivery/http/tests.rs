//! The rules every HTTP sink shares, apart from any sink: how events are
//! cut into bodies, and what an answer means. (The sending loop is tested
//! through the `http` sink, against a receiver.)

use super::*;
use reqwest::header::HeaderValue;

fn events(texts: &[&str]) -> Vec<Event> {
    texts.iter().map(|text| Event::from_json((*text).to_owned())).collect()
}

fn lines(events: &[Event], limits: HttpBatch) -> Encoded {
    let refs: Vec<&Event> = events.iter().collect();
    pack(&refs, &limits, Framing::CONCATENATED, |event, out| {
        if event.json().contains("bad") {
            return Err("no body for it".into());
        }
        out.extend_from_slice(event.json().as_bytes());
        out.push(b'\n');
        Ok(())
    })
}

#[test]
fn bodies_are_cut_at_the_event_and_byte_limits_and_rejections_keep_their_place() {
    let events = events(&["{\"a\":1}", "{\"bad\":1}", "{\"a\":2}", "{\"a\":3}", "{\"a\":4}"]);
    let encoded = lines(&events, HttpBatch { max_events: 2, ..HttpBatch::default() });
    let bodies: Vec<(&[u8], &[usize])> = encoded.bodies.iter().map(|b| (&b.bytes[..], &b.events[..])).collect();
    assert_eq!(bodies, [(&b"{\"a\":1}\n{\"a\":2}\n"[..], &[0, 2][..]), (&b"{\"a\":3}\n{\"a\":4}\n"[..], &[3, 4][..])]);
    assert_eq!(encoded.rejected, [(1, "no body for it".to_owned())]);

    // 8 bytes a line: two fit in 16, and one alone over the limit still goes.
    let encoded = lines(&events, HttpBatch { max_bytes: 16, ..HttpBatch::default() });
    assert_eq!(encoded.bodies.iter().map(|b| b.events.len()).collect::<Vec<_>>(), [2, 2]);
    let encoded = lines(&events, HttpBatch { max_bytes: 3, ..HttpBatch::default() });
    assert_eq!(encoded.bodies.len(), 4, "an event larger than max_bytes is sent alone");
}

#[test]
fn a_json_array_is_framed_whole_in_every_body() {
    let events = events(&["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"]);
    let refs: Vec<&Event> = events.iter().collect();
    let encoded = pack(&refs, &HttpBatch { max_events: 2, ..HttpBatch::default() }, Framing::JSON_ARRAY, |e, out| {
        out.extend_from_slice(e.json().as_bytes());
        Ok(())
    });
    let bodies: Vec<&str> = encoded.bodies.iter().map(|b| std::str::from_utf8(&b.bytes).unwrap()).collect();
    assert_eq!(bodies, ["[{\"a\":1},{\"a\":2}]", "[{\"a\":3}]"]);
}

fn reply(status: u16, retry_after: Option<&str>) -> Reply {
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
    }
    Reply { status: StatusCode::from_u16(status).unwrap(), headers, body: Bytes::from_static(b"  why  ") }
}

#[test]
fn answers_are_success_retry_or_refusal() {
    for status in [200, 201, 202, 204] {
        assert_eq!(Verdict::of(&reply(status, None)), Verdict::Success, "{status}");
    }
    for status in [408, 429, 500, 502, 503, 504] {
        assert_eq!(Verdict::of(&reply(status, None)), Verdict::Retry { after: None }, "{status}");
    }
    for status in [301, 400, 401, 403, 404, 409, 413] {
        assert_eq!(Verdict::of(&reply(status, None)), Verdict::Refuse, "{status}");
    }
    assert_eq!(reply(400, None).refusal(), "HTTP 400 Bad Request: why");
}

#[test]
fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
    assert_eq!(reply(429, Some("7")).retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(reply(429, Some("86400")).retry_after(), Some(MAX_RETRY_AFTER));
    let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(30);
    let date = soon.format(&time::format_description::well_known::Rfc2822).unwrap();
    let wait = reply(503, Some(&date)).retry_after().unwrap();
    assert!((Duration::from_secs(28)..=Duration::from_secs(30)).contains(&wait), "{wait:?} for {date}");
    assert_eq!(reply(503, Some("Mon, 01 Jan 2001 00:00:00 +0000")).retry_after(), Some(Duration::ZERO));
    // The IMF-fixdate form HTTP uses (RFC 9110), zone "GMT".
    assert_eq!(reply(503, Some("Sun, 06 Nov 1994 08:49:37 GMT")).retry_after(), Some(Duration::ZERO));
    assert_eq!(reply(503, Some("soon")).retry_after(), None);
    assert_eq!(Verdict::of(&reply(429, Some("2"))), Verdict::Retry { after: Some(Duration::from_secs(2)) });
}
