//! The Prometheus endpoint of a node process: `GET http://ADDR/metrics` in the text format.

use anyhow::{Context, Result};
use metrics_exporter_prometheus::PrometheusBuilder;
use std::net::SocketAddr;

/// Serves every metric of this process on `addr` (call inside the tokio runtime).
pub fn serve(addr: SocketAddr) -> Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .with_context(|| format!("serving metrics on {addr}"))?;
    basalt_node::metrics::describe();
    basalt_rollup::metrics::describe();
    Ok(())
}
