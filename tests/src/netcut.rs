//! A TCP proxy whose "network cable" a test can pull and plug back: every connection through
//! it is cut at once, and new ones are refused while it is down. Used between the sync engine
//! and the test cluster to cut the network mid-push, and between the storage client and a
//! Storage server to cut an upload mid-chunk ([`NetCut::cut_after_upstream`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct NetCut {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<AbortHandle>>>,
    cuts: Arc<AtomicU64>,
    /// Client-to-server bytes left before an armed cut (`u64::MAX`: none armed).
    cut_in: Arc<AtomicU64>,
    accept: AbortHandle,
}

impl NetCut {
    /// Starts a proxy on 127.0.0.1 forwarding to `target`, with the network up.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let cuts = Arc::new(AtomicU64::new(0));
        let cut_in = Arc::new(AtomicU64::new(u64::MAX));
        let (up2, conns2) = (up.clone(), connections.clone());
        let (cuts2, cut_in2) = (cuts.clone(), cut_in.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let armed = (cut_in2.clone(), up2.clone(), conns2.clone(), cuts2.clone());
                let task = tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(target).await {
                        relay(&mut inbound, outbound, armed).await;
                    }
                });
                if let Ok(mut c) = conns2.lock() {
                    c.retain(|h| !h.is_finished());
                    c.push(task.abort_handle());
                }
            }
        })
        .abort_handle();
        Self {
            addr,
            up,
            connections,
            cuts,
            cut_in,
            accept,
        }
    }

    /// Arms a cut: once `bytes` more bytes have gone from clients to the server, every
    /// connection is cut (as [`NetCut::cut`]) before the next byte is forwarded.
    pub fn cut_after_upstream(&self, bytes: u64) {
        self.cut_in.store(bytes, Ordering::SeqCst);
    }

    /// How many times the network was cut (by hand or by an armed cut).
    pub fn cuts(&self) -> u64 {
        self.cuts.load(Ordering::SeqCst)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut c) = self.connections.lock() {
            for h in c.drain(..) {
                h.abort();
            }
        }
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }
}

type Armed = (
    Arc<AtomicU64>,
    Arc<AtomicBool>,
    Arc<Mutex<Vec<AbortHandle>>>,
    Arc<AtomicU64>,
);

/// Copies both ways; the client-to-server side counts down an armed cut.
async fn relay(inbound: &mut TcpStream, outbound: TcpStream, armed: Armed) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (cut_in, up, connections, cuts) = armed;
    let (mut in_read, mut in_write) = inbound.split();
    let (mut out_read, mut out_write) = outbound.into_split();
    let upstream = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match in_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let left = cut_in.load(Ordering::SeqCst);
            if left != u64::MAX {
                if (n as u64) >= left {
                    // Forward exactly up to the mark, then pull the cable.
                    let _ = out_write.write_all(&buf[..left as usize]).await;
                    let _ = out_write.flush().await;
                    cut_in.store(u64::MAX, Ordering::SeqCst);
                    up.store(false, Ordering::SeqCst);
                    cuts.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut c) = connections.lock() {
                        for h in c.drain(..) {
                            h.abort();
                        }
                    }
                    return;
                }
                cut_in.store(left - n as u64, Ordering::SeqCst);
            }
            if out_write.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = out_write.shutdown().await;
    };
    let downstream = async {
        let _ = tokio::io::copy(&mut out_read, &mut in_write).await;
        let _ = in_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

impl Drop for NetCut {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}
