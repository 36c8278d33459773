//! A minimal RFC 6455 client for the flow simulator's WebSocket, on raw tokio TCP (axum has
//! no WebSocket client; the few lines below avoid a dependency), and a plain HTTP GET.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A WebSocket client: the opening handshake, masked text frames out, unmasked frames in.
pub struct WsClient {
    tcp: TcpStream,
}

impl WsClient {
    pub async fn connect(addr: std::net::SocketAddr, path: &str) -> WsClient {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let head = read_head(&mut tcp).await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        // RFC 6455 §1.3's example key has this accept value.
        assert!(
            head.to_ascii_lowercase()
                .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
            "{head}"
        );
        WsClient { tcp }
    }

    pub async fn send(&mut self, message: Value) {
        let payload = message.to_string().into_bytes();
        let mask: [u8; 4] = rand::random();
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.tcp.write_all(&frame).await.unwrap();
    }

    pub async fn recv(&mut self) -> Value {
        let read = async {
            let mut head = [0u8; 2];
            self.tcp.read_exact(&mut head).await.unwrap();
            assert_eq!(head[0], 0x81, "one unfragmented text frame per event");
            assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
            let len = match head[1] & 0x7f {
                126 => u64::from(self.tcp.read_u16().await.unwrap()),
                127 => self.tcp.read_u64().await.unwrap(),
                n => u64::from(n),
            };
            let mut payload = vec![0u8; len as usize];
            self.tcp.read_exact(&mut payload).await.unwrap();
            serde_json::from_slice(&payload).unwrap()
        };
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("an event within 5 s")
    }

    /// Events up to and including the next `status`.
    pub async fn batch(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.recv().await;
            let last = matches!(event["type"].as_str(), Some("status" | "error"));
            events.push(event);
            if last {
                return events;
            }
        }
    }
}

pub async fn read_head(tcp: &mut TcpStream) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(tcp.read_u8().await.unwrap());
    }
    String::from_utf8(head).unwrap()
}

pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (String, Vec<u8>) {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let head = read_head(&mut tcp).await;
    let mut body = Vec::new();
    tcp.read_to_end(&mut body).await.unwrap();
    (head, body)
}
