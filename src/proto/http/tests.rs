//! HTTP head and scanner tests.

use super::*;

const GET: &[u8] = b"GET /index.html?i=1 HTTP/1.1\r\nHost: web-1.test.local\r\nUser-Agent: corpus-agent/1\r\nAccept: */*\r\n\r\n";

/// The scanner fed `up` and `down` whole, then finished.
fn scan(up: &[u8], down: &[u8]) -> HttpInfo {
    let mut s = HttpScanner::new();
    s.update(0, up);
    s.update(1, down);
    s.finish(up, down);
    s.into_info()
}

#[test]
fn request_head_fields() {
    let r = parse_request_head(GET).done().expect("parses");
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/index.html?i=1");
    assert_eq!(r.version, Some(Version { major: 1, minor: 1 }));
    assert_eq!(r.host.as_deref(), Some("web-1.test.local"));
    assert_eq!(r.user_agent.as_deref(), Some("corpus-agent/1"));
    assert_eq!(r.head_bytes, GET.len());
    assert_eq!(r.anomaly, None);
    // any field, any case
    let accept = header_value(GET, "ACCEPT").expect("accept");
    assert_eq!(&*accept, b"*/*");
    assert_eq!(headers(GET).count(), 3);
}

#[test]
fn response_head_fields() {
    let head = b"HTTP/1.0 404 Not Found\nServer: GFE/2.0\nContent-Type: text/html; charset=UTF-8\nContent-Length:  12 \n\n";
    let r = parse_response_head(head).done().expect("parses");
    assert_eq!(
        (r.version.map(|v| v.to_string()).as_deref(), r.status),
        (Some("HTTP/1.0"), 404)
    );
    assert_eq!(r.reason, "Not Found");
    assert_eq!(r.server.as_deref(), Some("GFE/2.0"));
    assert_eq!(r.content_type.as_deref(), Some("text/html; charset=UTF-8"));
    assert_eq!(r.content_length, Some(12));
    // a status line without a reason
    let r = parse_response_head(b"HTTP/1.1 204\r\n\r\n")
        .done()
        .expect("parses");
    assert_eq!((r.status, r.reason.as_str()), (204, ""));
}

#[test]
fn split_heads_need_more() {
    for cut in 0..GET.len() {
        assert_eq!(
            parse_request_head(&GET[..cut]),
            Parse::NeedMore,
            "cut at {cut}"
        );
    }
    assert_eq!(parse_response_head(b"HTTP/1.1 200 OK\r\n"), Parse::NeedMore);
    assert_eq!(parse_response_head(b"HT"), Parse::NeedMore);
}

#[test]
fn garbage_is_malformed_at_once() {
    // TLS, SSH, SMTP, binary: the first bytes decide
    for bytes in [
        &b"\x16\x03\x01\x02\x00\x01"[..],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"220 mail.example ESMTP\r\n",
        b"GET/ HTTP/1.1\r\n\r\n",
        b"OPTIONSHTTP/1.1\r\nHost: x\r\n\r\n",
        b"\x00\x00",
        b" GET / HTTP/1.1\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ] {
        assert!(
            parse_request_head(bytes).is_malformed(),
            "{:?}",
            bytes.escape_ascii().to_string()
        );
    }
    assert!(parse_response_head(b"\x16\x03").is_malformed());
    assert!(parse_response_head(b"HTTP/x").is_malformed());
    assert!(parse_response_head(b"HTTPS/1.1 200 OK\r\n\r\n").is_malformed());
    assert!(parse_response_head(b"HTTP/1.1 20 OK\r\n\r\n").is_malformed());
    assert!(parse_response_head(b"ICY 200 OK\r\n\r\n").is_malformed());
    // a method too long to be one
    let long = [b'A'; 40];
    assert!(parse_request_head(&long).is_malformed());
}

#[test]
fn head_bound() {
    let mut big = b"GET / HTTP/1.1\r\nCookie: ".to_vec();
    big.resize(MAX_HEAD_BYTES + 10, b'a');
    assert_eq!(
        parse_request_head(&big),
        Parse::Malformed("head longer than 16 KiB")
    );
    // the same head whole, with its end past the bound: the same answer
    big.extend_from_slice(b"\r\n\r\n");
    assert!(parse_request_head(&big).is_malformed());
}

#[test]
fn tolerated_oddities() {
    // folding, bare LF, leading empty lines, space before colon, junk line
    let head = b"\r\n\nPOST /f HTTP/1.0\nHost : a.example\nUser-Agent: one\n  two\njunk\n\n";
    let r = parse_request_head(head).done().expect("parses");
    assert_eq!(r.host.as_deref(), Some("a.example"));
    assert_eq!(r.user_agent.as_deref(), Some("one two"));
    assert_eq!(r.head_bytes, head.len());
    assert_eq!(r.anomaly, Some("whitespace before a header colon"));
    // non-UTF-8 escaped
    let r = parse_request_head(b"GET /\xff HTTP/1.1\r\nHost: \xc3\xa9t\xe9\r\n\r\n")
        .done()
        .expect("parses");
    assert_eq!(r.target, "/\\xff");
    assert_eq!(r.host.as_deref(), Some("\\xc3\\xa9t\\xe9"));
}

#[test]
fn request_lines_without_version_as_tshark_reads_them() {
    let r = parse_request_head(b"OPTIONS HTTP/1.1\nHost: www.google.com\n\n")
        .done()
        .expect("parses");
    assert_eq!((r.target.as_str(), r.version), ("HTTP/1.1", None));
    let r = parse_request_head(b"OPTIONS\nHost: www.google.com\n\n")
        .done()
        .expect("parses");
    assert_eq!((r.method.as_str(), r.target.as_str()), ("OPTIONS", ""));
    let r = parse_request_head(b"GET /HTTP/1.1\nHost: h\n\n")
        .done()
        .expect("parses");
    assert_eq!(r.target, "/HTTP/1.1");
    // an HTTP/0.9 request has no empty line: it never completes
    assert_eq!(parse_request_head(b"GET /zeek.html\n"), Parse::NeedMore);
    assert!(parse_request_head(b"FOO /x\r\n\r\n").is_malformed());
    // a malformed version is tolerated for registered methods (as TShark)
    let r = parse_request_head(b"CCM_POST / HTTP/1.\nHost: h\n\n")
        .done()
        .expect("parses");
    assert_eq!(
        (r.target.as_str(), r.version, r.anomaly),
        ("/", None, Some("malformed HTTP version"))
    );
    assert!(parse_request_head(b"FOO / HTTP/1.\n\n").is_malformed());
    // no version word: the target is the first word (arkime
    // gre-erspan-vxlan frame 4, `GET /Hello Arkime`, as TShark reads it)
    let r = parse_request_head(b"GET /Hello Arkime HTTP/1.0\r\n\r\n")
        .done()
        .expect("parses");
    assert_eq!(
        (r.target.as_str(), r.anomaly),
        ("/Hello", Some("malformed HTTP version"))
    );
    let r = parse_response_head(b"HTTP/1.. 200 OK\n\n")
        .done()
        .expect("parses");
    assert_eq!((r.version, r.status), (None, 200));
}

#[test]
fn pipelined_requests_are_counted() {
    let mut up = Vec::new();
    for i in 0..3 {
        up.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes());
    }
    up.extend_from_slice(b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    up.extend_from_slice(b"\r\nGET /after HTTP/1.1\r\n\r\n");
    let info = scan(&up, b"");
    assert_eq!(info.requests, 5);
    assert_eq!(info.request.map(|r| r.target), Some("/0".to_owned()));
    assert_eq!(info.request_end, None);
}

#[test]
fn chunked_bodies_are_skipped() {
    let down = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n\
        5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n\
        HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let up = b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n";
    let info = scan(up, down);
    assert_eq!((info.requests, info.responses), (3, 3));
    assert_eq!(info.response_end, None);
    let r = info.response.expect("first response");
    assert_eq!(r.transfer_encoding.as_deref(), Some("gzip, chunked"));
    // a bad chunk line is an anomaly after the first message
    let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    let info = scan(b"GET / HTTP/1.1\r\n\r\n", bad);
    assert_eq!(
        info.response_end,
        Some(WalkEnd::Malformed("chunk size is not hex"))
    );
    assert_eq!(info.responses, 1);
}

#[test]
fn head_responses_and_interim_responses_have_no_body() {
    let up = b"HEAD / HTTP/1.1\r\n\r\nPOST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
    let down = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
        HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n\
        HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
    let info = scan(up, down);
    assert_eq!((info.requests, info.responses), (3, 4));
    assert_eq!(info.final_status, Some(200));
    assert_eq!(info.response_end, None);
    // the first response may be interim
    let info = scan(
        b"POST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(info.response.map(|r| r.status), Some(100));
    assert_eq!((info.final_status, info.responses), (Some(200), 2));
}

#[test]
fn responses_wait_for_their_request() {
    // The HEAD request arrives after the response's head (as a capture
    // can order them): the response side waits instead of guessing.
    let up = b"HEAD / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    let down = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let mut s = HttpScanner::new();
    s.update(1, down);
    assert_eq!(s.info().responses, 1);
    s.update(0, up);
    s.update(1, down);
    assert_eq!((s.info().requests, s.info().responses), (2, 2));
    // the server side starting first is found by content
    assert_eq!(s.role(1), Some(Role::Responses));
    assert_eq!(s.role(0), Some(Role::Requests));
}

#[test]
fn ends_of_the_walk() {
    // CONNECT then TLS
    let info = scan(
        b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n\x16\x03\x01\x00\x05hello",
        b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03\x00\x01x",
    );
    assert_eq!((info.requests, info.responses), (1, 1));
    assert_eq!(info.request_end, Some(WalkEnd::Tunnel));
    assert_eq!(info.response_end, Some(WalkEnd::Tunnel));
    // a body to the close, a cut body, not HTTP
    let info = scan(b"GET / HTTP/1.0\r\n\r\n", b"HTTP/1.0 200 OK\r\n\r\n<html>");
    assert_eq!(info.response_end, Some(WalkEnd::BodyToClose));
    let info = scan(b"POST / HTTP/1.1\r\nContent-Length: 9999\r\n\r\nabc", b"");
    assert_eq!(info.request_end, Some(WalkEnd::Cut));
    let info = scan(b"\x16\x03\x01", b"\x16\x03\x03");
    assert_eq!(
        info.request_end,
        Some(WalkEnd::NotHttp("method is not a token"))
    );
    assert_eq!(info.requests, 0);
    // websocket after 101
    let info = scan(
        b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85abcd",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi",
    );
    assert_eq!(
        (info.request_end, info.response_end),
        (Some(WalkEnd::Tunnel), Some(WalkEnd::Tunnel))
    );
    // an invalid Content-Length stops the walk
    let info = scan(b"POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\nabcd", b"");
    assert_eq!(
        info.request_end,
        Some(WalkEnd::Malformed("invalid Content-Length"))
    );
}

#[test]
fn a_version_less_request_without_empty_line_is_cut() {
    // HTTP/0.9: the server answers with a bare body; the request side is
    // the one reported, its head never ended.
    let info = scan(b"GET /zeek.html\n", b"<html>hi</html>\n");
    assert_eq!((info.requests, info.request_end), (0, Some(WalkEnd::Cut)));
}

#[test]
fn byte_by_byte_equals_whole() {
    let up = b"\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\n\r\n";
    let down = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
    let mut s = HttpScanner::new();
    for n in 0..=up.len().max(down.len()) {
        s.update(0, &up[..n.min(up.len())]);
        s.update(1, &down[..n.min(down.len())]);
    }
    s.finish(up, down);
    let info = s.into_info();
    assert_eq!(info, scan(up, down));
    assert_eq!(
        (info.requests, info.responses, info.response_end),
        (2, 2, None)
    );
}

#[test]
fn content_length_lists() {
    let mut cl = ContentLength::Absent;
    cl.add(b"5, 5");
    cl.add(b"5");
    assert_eq!(cl, ContentLength::Valid(5));
    cl.add(b"6");
    assert_eq!(cl, ContentLength::Invalid);
    let mut cl = ContentLength::Absent;
    cl.add(b"99999999999999999999");
    assert_eq!(cl, ContentLength::Invalid);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Bytes that look like HTTP often enough to reach the walk.
    fn httpish() -> impl Strategy<Value = Vec<u8>> {
        let pieces = prop_oneof![
            Just(&b"GET / HTTP/1.1\r\n"[..]),
            Just(&b"HEAD /x HTTP/1.0\n"[..]),
            Just(&b"HTTP/1.1 200 OK\r\n"[..]),
            Just(&b"HTTP/1.1 100 Continue\r\n"[..]),
            Just(&b"Content-Length: 3\r\n"[..]),
            Just(&b"Transfer-Encoding: chunked\r\n"[..]),
            Just(&b"Host: h\r\n  folded\r\n"[..]),
            Just(&b"\r\n"[..]),
            Just(&b"\n"[..]),
            Just(&b"3\r\nabc\r\n0\r\n"[..]),
            Just(&b"abc"[..]),
            Just(&b"\x16\x03"[..]),
        ];
        proptest::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
    }

    fn bytes() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![proptest::collection::vec(any::<u8>(), 0..400), httpish()]
    }

    proptest! {
        #[test]
        fn heads_never_panic_and_are_prefix_stable(b in bytes(), extra in bytes()) {
            let mut longer = b.clone();
            longer.extend_from_slice(&extra);
            if let Parse::Done(r) = parse_request_head(&b) {
                prop_assert!(r.head_bytes <= b.len());
                prop_assert_eq!(parse_request_head(&longer), Parse::Done(r));
            }
            if let Parse::Done(r) = parse_response_head(&b) {
                prop_assert!(r.head_bytes <= b.len());
                prop_assert_eq!(parse_response_head(&longer), Parse::Done(r));
            }
            let _ = headers(&b).count();
        }

        /// Feeding the streams piece by piece gives what feeding them
        /// whole gives: the scanner's state carries over correctly.
        #[test]
        fn incremental_equals_whole(
            up in bytes(),
            down in bytes(),
            cuts in proptest::collection::vec((any::<bool>(), 0usize..400), 0..12),
        ) {
            let mut whole_heads: [Vec<Head>; 2] = Default::default();
            let mut w = HttpScanner::new();
            w.finish_with(&up, &down, &mut |dir, h| whole_heads[dir].push(h));
            let whole = w.into_info();
            prop_assert_eq!(&whole, &scan(&up, &down));
            let mut heads: [Vec<Head>; 2] = Default::default();
            let mut s = HttpScanner::new();
            let (mut u, mut d) = (0, 0);
            for (dir_down, n) in cuts {
                if dir_down {
                    d = (d + n).min(down.len());
                    s.update_with(1, &down[..d], &mut |dir, h| heads[dir].push(h));
                } else {
                    u = (u + n).min(up.len());
                    s.update_with(0, &up[..u], &mut |dir, h| heads[dir].push(h));
                }
            }
            s.finish_with(&up, &down, &mut |dir, h| heads[dir].push(h));
            prop_assert_eq!(s.into_info(), whole.clone());
            prop_assert_eq!(&heads, &whole_heads);
            // the counts are the heads handed over
            let by_role = |want: fn(&Head) -> bool| heads.iter().flatten().filter(|h| want(h)).count();
            prop_assert!(by_role(|h| matches!(h, Head::Request(_))) >= whole.requests as usize);
            prop_assert!(by_role(|h| matches!(h, Head::Response(_))) >= whole.responses as usize);
            // every counted head needs at least a line end of bytes
            let counted = (whole.requests + whole.responses) as usize;
            prop_assert!(counted <= up.len() + down.len());
        }
    }
}
