//! The exact request our client puts on the wire, caught once by a one-shot loopback
//! listener, so that the bare loops (hyper, reqwest, `http.client`, curl) post the same bytes.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One HTTP/1.1 request as it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WireRequest {
    pub method: String,
    pub path: String,
    /// In the order sent; names as sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireRequest {
    /// The headers to copy into another client: those that frame the message
    /// (`Content-Length`, `Connection`, ...) are left out, since every library sets its own.
    pub(crate) fn replayable_headers(&self) -> Vec<(String, String)> {
        const FRAMING: [&str; 4] = ["content-length", "connection", "transfer-encoding", "keep-alive"];
        self.headers.iter().filter(|(name, _)| !FRAMING.iter().any(|f| name.eq_ignore_ascii_case(f))).cloned().collect()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Parses a request head and its `Content-Length` body.
pub(crate) fn parse(raw: &[u8]) -> Result<WireRequest, String> {
    let end = find_head_end(raw).ok_or("the request head does not end")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "the request head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(path), Some(_version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("a malformed request line: {request_line:?}"));
    };
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("a malformed header line: {line:?}"))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().map_err(|_| format!("a bad Content-Length: {v:?}")))
        .transpose()?
        .unwrap_or(0);
    let body = raw.get(end + 4..end + 4 + length).ok_or("the body is shorter than its Content-Length")?;
    Ok(WireRequest { method: method.to_owned(), path: path.to_owned(), headers, body: body.to_vec() })
}

fn find_head_end(raw: &[u8]) -> Option<usize> {
    raw.windows(4).position(|w| w == b"\r\n\r\n")
}

/// Serves one request on `address`, answering `200` with `answer` as JSON, while `call` sends
/// it to the endpoint it is given; returns what arrived. (The bench binds the port nginx takes
/// next, so that the copied `Host` and signature are those a client of nginx sends.)
pub(crate) async fn capture<F, Fut>(address: SocketAddr, answer: &str, call: F) -> Result<WireRequest, String>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let listener =
        tokio::net::TcpListener::bind(address).await.map_err(|e| format!("cannot listen on {address}: {e}"))?;
    let endpoint = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let serve = async {
        let (mut stream, _) = listener.accept().await.map_err(|e| format!("accept: {e}"))?;
        let mut raw = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = stream.read(&mut buffer).await.map_err(|e| format!("read: {e}"))?;
            if read == 0 {
                break;
            }
            raw.extend_from_slice(&buffer[..read]);
            if parse(&raw).is_ok() {
                break;
            }
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-request-id: capture\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
            answer.len()
        );
        stream.write_all(response.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
        Ok::<_, String>(raw)
    };
    let both = async { tokio::join!(serve, call(endpoint)) };
    let (served, called) = tokio::time::timeout(Duration::from_secs(10), both)
        .await
        .map_err(|_| "the captured call did not finish within 10 s")?;
    called?;
    parse(&served?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"POST /v2/p/desktop/delete-sub-resources HTTP/1.1\r\ncontent-type: application/json\r\n\
        Host: 127.0.0.1:80\r\ncontent-length: 5\r\nConnection: keep-alive\r\n\r\nhello";

    #[test]
    fn parses_head_and_body() {
        let request = parse(RAW).unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/v2/p/desktop/delete-sub-resources");
        assert_eq!(request.header("HOST"), Some("127.0.0.1:80"));
        assert_eq!(request.body, b"hello");
    }

    #[test]
    fn framing_headers_are_not_replayed() {
        let names: Vec<String> = parse(RAW).unwrap().replayable_headers().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["content-type", "Host"]);
    }

    #[test]
    fn a_short_body_is_not_yet_a_request() {
        assert!(parse(&RAW[..RAW.len() - 1]).is_err());
        assert!(parse(b"POST / HTTP/1.1\r\n").is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn captures_what_a_client_sends() {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        let captured = capture(any_port, r#"{"job_id":"j"}"#, |endpoint| async move {
            let response = raw_post(&endpoint).await?;
            assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
            assert!(response.ends_with(r#"{"job_id":"j"}"#), "{response}");
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(captured.path, "/x");
        assert_eq!(captured.body, b"{}");
    }

    /// A client of a few lines, so that this test depends on nothing it checks.
    async fn raw_post(endpoint: &str) -> Result<String, String> {
        let address = endpoint.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.map_err(|e| e.to_string())?;
        stream
            .write_all(format!("POST /x HTTP/1.1\r\nHost: {address}\r\ncontent-length: 2\r\n\r\n{{}}").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.map_err(|e| e.to_string())?;
        Ok(answer)
    }
}
