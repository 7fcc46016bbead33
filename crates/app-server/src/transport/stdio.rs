//! The stdio transport: one connection over the process's stdin and stdout.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::connection::serve_connection;
use crate::ctx::ServerCtx;

/// Serves one connection on stdin/stdout until stdin ends or `shutdown` resolves.
pub async fn serve_stdio(
    ctx: Arc<ServerCtx>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    ctx.stats.connections_open.fetch_add(1, Ordering::Relaxed);
    let result = serve_connection(
        tokio::io::stdin(),
        tokio::io::stdout(),
        Arc::clone(&ctx),
        shutdown,
    )
    .await;
    ctx.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
    result
}
