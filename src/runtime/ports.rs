//! RTP port allocation from the configured range: even ports, bound on demand, released when
//! the socket closes.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Mutex;

/// Hands out UDP sockets on even ports of `[min, max]`, round-robin so a port just released
/// is not reused at once (late packets of the old call must not reach the new one).
pub(super) struct PortAllocator {
    ip: IpAddr,
    min: u16,
    max: u16,
    cursor: Mutex<u16>,
}

impl PortAllocator {
    pub(super) fn new(ip: IpAddr, min: u16, max: u16) -> Self {
        let min = min + (min % 2);
        PortAllocator {
            ip,
            min,
            max,
            cursor: Mutex::new(min),
        }
    }

    /// Binds a non-blocking socket on the next free even port.
    pub(super) fn bind(&self) -> io::Result<UdpSocket> {
        let span = usize::from((self.max - self.min) / 2 + 1);
        let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        for _ in 0..span {
            let port = *cursor;
            *cursor = if port + 2 > self.max {
                self.min
            } else {
                port + 2
            };
            match UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                Ok(socket) => {
                    socket.set_nonblocking(true)?;
                    return Ok(socket);
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "RTP port range exhausted",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_round_robin_and_reports_exhaustion() {
        let ports = PortAllocator::new("127.0.0.1".parse().unwrap(), 30001, 30006);
        let a = ports.bind().unwrap();
        let b = ports.bind().unwrap();
        let c = ports.bind().unwrap();
        let got: Vec<u16> = [&a, &b, &c]
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert_eq!(got, vec![30002, 30004, 30006]);
        assert!(ports.bind().is_err(), "range of three pairs is exhausted");
        drop(b);
        assert_eq!(ports.bind().unwrap().local_addr().unwrap().port(), 30004);
    }
}
