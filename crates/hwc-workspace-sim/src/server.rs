//! The HTTP/1.1 server: accepts connections up to a bound, serves each with hyper, resets
//! connections when a fault asks for it, and stops cleanly when asked.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::gateway;
use crate::shared::{ResetHandle, Shared, stopped};

/// A client that opens a connection must send its request head within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long answers in progress may take to finish once the simulator stops.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

pub(crate) async fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    max_connections: usize,
    mut stop: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(max_connections.max(1)));
    let mut connections = JoinSet::new();
    loop {
        // The permit is taken before accepting: at the bound, new connections wait in the
        // listen backlog instead of being accepted and starved.
        let permit = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            biased;
            () = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Typically out of file descriptors: wait for some to be released.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Some(fault) = shared.fault_state().draw_at_accept() {
            // SO_LINGER 0 makes the close send RST at once: the client sees its connection
            // reset before a byte of its request was read.
            let _ = stream.set_zero_linger();
            drop(stream);
            tracing::info!(%fault, "connection reset as it was accepted");
            continue;
        }
        let _ = stream.set_nodelay(true);
        connections.spawn(serve(stream, Arc::clone(&shared), permit, stop.clone()));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let drained =
        tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        connections.shutdown().await;
    }
    tracing::debug!("simulator stopped");
}

async fn serve(stream: TcpStream, shared: Arc<Shared>, permit: OwnedSemaphorePermit, mut stop: watch::Receiver<bool>) {
    let socket = Socket::new(stream);
    let reset = socket.reset_handle();
    let service = hyper::service::service_fn(move |request| {
        gateway::handle_resettable(Arc::clone(&shared), reset.clone(), request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        // hyper's read buffer grows with a large body and keeps its size for the life of the
        // connection: after one 1 MiB body, ~0.5 MiB per idle connection (seen in the load
        // test). 64 KiB holds any header block the service accepts.
        .max_buf_size(64 * 1024)
        .keep_alive(true)
        .serve_connection(TokioIo::new(socket), service);
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection closed with an error");
            }
        }
        () = stopped(&mut stop) => {
            // Idle keep-alive connections close now; an answer in progress is finished.
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
    drop(permit);
}

/// A connection's socket as hyper uses it, which a fault can turn into a reset: hyper owns
/// the stream, so the handler flags the wish and the socket acts on it when it is closed.
#[derive(Debug)]
struct Socket {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Socket {
    fn new(stream: TcpStream) -> Self {
        Self { stream, reset: Arc::new(AtomicBool::new(false)) }
    }

    fn reset_handle(&self) -> ResetHandle {
        ResetHandle(Arc::clone(&self.reset))
    }

    fn resetting(&self) -> bool {
        self.reset.load(Ordering::Relaxed)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.resetting() {
            // SO_LINGER 0: closing sends RST and discards anything unsent.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.resetting() {
            // A FIN first would let the client read a clean end of stream before the RST.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}
