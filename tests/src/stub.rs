//! A tiny HTTP server on loopback for the outside services the API talks to
//! (a push gateway, an external calendar): each request is answered by a
//! handler the test gives, and every request is recorded.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub body: String,
}

/// An answer: status, content type and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    /// A status with an empty body.
    pub fn status(status: u16) -> Self {
        Answer {
            status,
            content_type: "text/plain",
            body: String::new(),
        }
    }
}

type Handler = dyn Fn(&Request) -> Answer + Send + Sync;

/// A running stub.
pub struct Stub {
    /// `http://127.0.0.1:port`.
    pub base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Stub {
    /// Starts a stub that answers every request with `handler`.
    pub async fn start(handler: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Stub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let seen = requests.clone();
        let handler: Arc<Handler> = Arc::new(handler);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                let handler = handler.clone();
                tokio::spawn(async move {
                    let Some(request) = read_request(&mut socket).await else {
                        return;
                    };
                    let answer = handler(&request);
                    seen.lock().unwrap().push(request);
                    let head = format!(
                        "HTTP/1.1 {} X\r\ncontent-type: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        answer.status,
                        answer.content_type,
                        answer.body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(answer.body.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Stub { base, requests }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<Request> {
    let mut raw = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = socket.read(&mut buffer).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            continue;
        };
        let length = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        if body.len() >= length {
            let mut first = head.lines().next()?.split(' ');
            return Some(Request {
                method: first.next()?.to_owned(),
                path: first.next()?.to_owned(),
                body: body.to_owned(),
            });
        }
    }
}
