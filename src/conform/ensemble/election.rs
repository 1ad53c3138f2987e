//! The election links between the servers of a spawned ensemble: bytes passed on both ways,
//! when the harness lets the two servers' election traffic pass ([`Links::open_elections`]).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

use super::proxy::{LinkId, Links};

/// Listen on `listen` for server `from`'s connections to server `to` (at `target`) and pass
/// bytes on both ways, when `links` lets the two servers' election traffic pass: an election
/// link. The connecting server's first message names its own election address, at which the
/// other connects back when it has the higher id (`QuorumCnxManager.handleConnection`): the
/// proxy puts `back`, the other's way to it through the harness, in its place. Returns the
/// listening thread, which ends at the next connection after [`Links::stop`].
pub fn election_proxy(
    listen: TcpListener,
    target: SocketAddr,
    (a, b): LinkId,
    back: SocketAddr,
    links: Arc<Links>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for accepted in listen.incoming() {
            if links.stopped() {
                break;
            }
            let Ok(inbound) = accepted else { continue };
            let Ok(outbound) = TcpStream::connect(target) else {
                let _ = inbound.shutdown(Shutdown::Both);
                continue;
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            for (first, from, to) in [(true, &inbound, &outbound), (false, &outbound, &inbound)] {
                let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                    continue;
                };
                let links = Arc::clone(&links);
                std::thread::spawn(move || {
                    if first {
                        let Ok(message) = initial_message(&mut from, back) else {
                            let _ = to.shutdown(Shutdown::Write);
                            return;
                        };
                        links.wait_election(a, b);
                        if to.write_all(&message).is_err() {
                            return;
                        }
                    }
                    let mut buffer = [0; 4096];
                    while let Ok(n @ 1..) = from.read(&mut buffer) {
                        links.wait_election(a, b);
                        if to.write_all(&buffer[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to.shutdown(Shutdown::Write);
                });
            }
        }
    })
}

/// Read the connecting server's first message (`QuorumCnxManager.InitialMessage`: a protocol
/// version, its id, then its election addresses as one string) and return it with `back` as
/// the address. An old-style message (a bare id, no version) has no address and is returned as
/// it came.
fn initial_message(from: &mut TcpStream, back: SocketAddr) -> io::Result<Vec<u8>> {
    let mut version = [0; 8];
    from.read_exact(&mut version)?;
    let mut message = version.to_vec();
    if i64::from_be_bytes(version) >= 0 {
        return Ok(message);
    }
    let mut sid = [0; 8];
    from.read_exact(&mut sid)?;
    let mut length = [0; 4];
    from.read_exact(&mut length)?;
    let length = usize::try_from(i32::from_be_bytes(length))
        .ok()
        .filter(|&n| n <= 4096)
        .ok_or_else(|| io::Error::other("an unreasonable address length"))?;
    let mut address = vec![0; length];
    from.read_exact(&mut address)?;
    let address = back.to_string();
    message.extend_from_slice(&sid);
    message.extend_from_slice(&(address.len() as i32).to_be_bytes());
    message.extend_from_slice(address.as_bytes());
    Ok(message)
}
