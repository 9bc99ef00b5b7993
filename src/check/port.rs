//! Port checks: whether a socket listens, read from `/proc/net/{tcp,tcp6,udp,udp6}` inside the
//! container, so no `netstat` or `ss` is needed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde::Deserialize;

use crate::check::Evaluation;
use crate::facts::{FactNeeds, Facts};

/// Socket table a listener is looked up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// IPv4 TCP; a dual-stack listener in the tcp6 table counts too.
    Tcp,
    Tcp6,
    /// IPv4 UDP; a dual-stack socket in the udp6 table counts too.
    Udp,
    Udp6,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Tcp6 => "tcp6",
            Protocol::Udp => "udp",
            Protocol::Udp6 => "udp6",
        }
    }
}

/// One bound socket from a `/proc/net` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    /// Table the socket came from: `tcp`, `tcp6`, `udp` or `udp6`.
    pub table: &'static str,
    pub address: IpAddr,
    pub port: u16,
}

#[derive(Clone, Debug)]
pub struct PortCheck {
    pub port: u16,
    pub protocol: Protocol,
    /// Local address the socket must be bound to; `None` accepts any.
    pub address: Option<IpAddr>,
    pub listening: bool,
}

impl PortCheck {
    pub fn request_facts(&self, needs: &mut FactNeeds) {
        needs.sockets = true;
    }

    pub fn evaluate(&self, facts: &Facts) -> (Evaluation, Duration) {
        let Some(gathered) = &facts.sockets else {
            return (Evaluation::error("socket tables were not gathered"), Duration::ZERO);
        };
        let sockets = match &gathered.value {
            Ok(sockets) => sockets,
            Err(message) => return (Evaluation::error(message.clone()), gathered.duration),
        };
        let matching: Vec<&Socket> = sockets.iter().filter(|socket| self.matches(socket)).collect();
        let actual = if matching.is_empty() {
            "not listening".to_owned()
        } else {
            let shown: Vec<String> =
                matching.iter().map(|socket| format!("{} {}:{}", socket.table, socket.address, socket.port)).collect();
            format!("listening ({})", shown.join(", "))
        };
        let expected = if self.listening { "listening" } else { "not listening" };
        let mut evaluation = Evaluation::new();
        evaluation.assert("listening", expected, actual, matching.is_empty() != self.listening);
        (evaluation, gathered.duration)
    }

    fn matches(&self, socket: &Socket) -> bool {
        if socket.port != self.port {
            return false;
        }
        match (self.protocol, socket.table) {
            (Protocol::Tcp, "tcp") | (Protocol::Udp, "udp") => self.address_matches(socket.address),
            // A socket on `::` accepts IPv4 too unless IPV6_V6ONLY is set, and /proc does not
            // show that flag. So the wildcard counts for IPv4, and so do IPv4-mapped addresses.
            (Protocol::Tcp, "tcp6") | (Protocol::Udp, "udp6") => match socket.address {
                IpAddr::V6(address) if address.is_unspecified() => {
                    self.address_matches(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
                }
                IpAddr::V6(address) => address.to_ipv4_mapped().is_some_and(|v4| self.address_matches(IpAddr::V4(v4))),
                IpAddr::V4(_) => false,
            },
            (Protocol::Tcp6, "tcp6") | (Protocol::Udp6, "udp6") => self.address_matches(socket.address),
            _ => false,
        }
    }

    /// Tests a bound address against the expected one. A wildcard listener accepts connections
    /// on every address, so it matches any expected address.
    fn address_matches(&self, bound: IpAddr) -> bool {
        match self.address {
            None => true,
            Some(expected) => bound == expected || bound.is_unspecified(),
        }
    }
}

/// Parses the concatenated tables, each introduced by a `== NAME` line, keeping listening TCP
/// sockets (state `0A`) and bound UDP sockets (state `07`).
pub fn parse_sockets(text: &str) -> Vec<Socket> {
    let mut sockets = Vec::new();
    let mut table = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            table = ["tcp", "tcp6", "udp", "udp6"].into_iter().find(|known| *known == name.trim());
            continue;
        }
        let Some(table) = table else { continue };
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else { continue };
        let wanted_state = if table.starts_with("tcp") { "0A" } else { "07" };
        if *state != wanted_state {
            continue;
        }
        if let Some((address, port)) = parse_endpoint(local) {
            sockets.push(Socket { table, address, port });
        }
    }
    sockets
}

/// Decodes `0100007F:1F90`: the address is hexadecimal in 32-bit words of host byte order
/// (little-endian on the x86 and ARM machines Docker runs on), the port big-endian hex.
fn parse_endpoint(text: &str) -> Option<(IpAddr, u16)> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<u32>> = address
        .as_bytes()
        .chunks(8)
        .map(|chunk| u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok())
        .collect();
    let words = words?;
    let bytes: Vec<u8> = words.iter().flat_map(|word| word.to_le_bytes()).collect();
    let address = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?)),
        _ => return None,
    };
    Some((address, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLES: &str = "== tcp\n  sl  local_address rem_address   st tx_queue\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n\
   1: 0100007F:0050 0100007F:A000 01 00000000:00000000\n\
== tcp6\n  sl  local_address rem_address st\n\
   0: 00000000000000000000000000000000:2382 00000000000000000000000000000000:0000 0A 0\n\
   1: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 0\n\
== udp\n  sl  local_address rem_address st\n\
   0: 00000000:14E9 00000000:0000 07 0\n\
== udp6\n  sl  local_address rem_address st\n";

    fn check(port: u16, protocol: Protocol, address: Option<&str>) -> PortCheck {
        PortCheck { port, protocol, address: address.map(|text| text.parse().unwrap()), listening: true }
    }

    #[test]
    fn parses_listening_sockets_only() {
        let sockets = parse_sockets(TABLES);
        assert_eq!(sockets.len(), 4);
        assert_eq!(sockets[0], Socket { table: "tcp", address: "127.0.0.1".parse().unwrap(), port: 8080 });
        assert_eq!(sockets[1].address, "::".parse::<IpAddr>().unwrap());
        assert_eq!(sockets[1].port, 9090);
        assert_eq!(sockets[2].address, "::ffff:127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(sockets[3], Socket { table: "udp", address: "0.0.0.0".parse().unwrap(), port: 5353 });
    }

    #[test]
    fn dual_stack_counts_for_ipv4() {
        let sockets = parse_sockets(TABLES);
        let any = |check: PortCheck| sockets.iter().any(|socket| check.matches(socket));
        assert!(any(check(9090, Protocol::Tcp, None)));
        assert!(any(check(9090, Protocol::Tcp6, None)));
        assert!(any(check(9090, Protocol::Tcp, Some("127.0.0.1"))));
        assert!(any(check(3000, Protocol::Tcp, Some("127.0.0.1"))));
        assert!(!any(check(3000, Protocol::Tcp, Some("10.0.0.1"))));
        assert!(any(check(8080, Protocol::Tcp, Some("127.0.0.1"))));
        assert!(!any(check(8080, Protocol::Tcp6, None)));
        assert!(!any(check(8080, Protocol::Tcp, Some("0.0.0.0"))));
        assert!(!any(check(80, Protocol::Tcp, None)), "an established connection is not a listener");
        assert!(any(check(5353, Protocol::Udp, None)));
        assert!(!any(check(5353, Protocol::Tcp, None)));
    }
}
