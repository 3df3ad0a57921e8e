//! A plain TCP relay for bench/run, a baseline for the cost of a
//! user-space proxy. It accepts on 127.0.0.1:LISTEN, connects each client to
//! 127.0.0.1:UPSTREAM, and copies both directions with blocking reads and
//! writes of up to 1 MiB, one thread per direction. No faults, no timers.
//!
//! Built by bench/run with `rustc -O`, so that it needs nothing but std.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::thread;

const BUFFER_BYTES: usize = 1 << 20;

fn main() {
    let ports: Vec<u16> = std::env::args()
        .skip(1)
        .filter_map(|argument| argument.parse().ok())
        .collect();
    let [listen, upstream] = ports[..] else {
        fail("usage: relay LISTEN UPSTREAM (two port numbers)");
    };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, listen))
        .unwrap_or_else(|error| fail(&format!("cannot listen on 127.0.0.1:{listen}: {error}")));
    for client in listener.incoming().flatten() {
        let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) else {
            continue;
        };
        let (client_copy, server_copy) = match (client.try_clone(), server.try_clone()) {
            (Ok(client_copy), Ok(server_copy)) => (client_copy, server_copy),
            _ => continue,
        };
        thread::spawn(move || copy(client, server));
        thread::spawn(move || copy(server_copy, client_copy));
    }
}

/// Copies `from` into `to` until `from` ends, then ends `to`'s sending side.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = vec![0u8; BUFFER_BYTES];
    while let Ok(count @ 1..) = from.read(&mut buffer) {
        if to.write_all(&buffer[..count]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

fn fail(message: &str) -> ! {
    eprintln!("relay: {message}");
    std::process::exit(2);
}
