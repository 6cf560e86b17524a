//! Where a rollup node meets the L1: one JSON-RPC call, answered by an L1 node over HTTP
//! ([`HttpSource`]) or by an L1 in the same process (tests run the node's actors against an L1
//! whose blocks they make themselves). Every answer goes through the same typed, bounded
//! parsing of [`crate::L1Client`], whatever the source.

use crate::l1client::L1Error;
use jsonrpsee::core::client::ClientT;
use jsonrpsee::core::params::ArrayParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

/// Largest L1 answer accepted: a page of records or one blob in hex, with room.
const MAX_RESPONSE_BYTES: u32 = 8 * 1024 * 1024;

/// An L1 JSON-RPC endpoint.
pub trait L1Source: Clone + Send + Sync + 'static {
    /// Calls `method` with `params`. An error object from the L1 is [`L1Error::Refused`]; a
    /// transport failure is [`L1Error::Unreachable`].
    fn call(
        &self,
        method: &'static str,
        params: ArrayParams,
    ) -> impl Future<Output = Result<Value, L1Error>> + Send;

    /// Where it reads, for logs and errors.
    fn url(&self) -> &str;
}

/// An L1 node's JSON-RPC server over HTTP.
#[derive(Clone)]
pub struct HttpSource {
    url: String,
    http: HttpClient,
}

impl HttpSource {
    /// A source at `url` (`http://host:port`).
    pub fn new(url: &str) -> Result<Self, L1Error> {
        let http = HttpClientBuilder::default()
            .request_timeout(Duration::from_secs(10))
            .max_response_size(MAX_RESPONSE_BYTES)
            .build(url)
            .map_err(|e| L1Error::Url {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(HttpSource {
            url: url.to_string(),
            http,
        })
    }
}

impl L1Source for HttpSource {
    async fn call(&self, method: &'static str, params: ArrayParams) -> Result<Value, L1Error> {
        self.http
            .request(method, params)
            .await
            .map_err(|e| match e {
                jsonrpsee::core::ClientError::Call(obj) => L1Error::Refused {
                    method,
                    message: obj.message().to_string(),
                },
                other => L1Error::Unreachable {
                    method,
                    url: self.url.clone(),
                    reason: other.to_string(),
                },
            })
    }

    fn url(&self) -> &str {
        &self.url
    }
}
