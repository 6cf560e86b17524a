//! Where a rollup node meets the L1: a jsonrpsee client of the L1 API, an L1 node over HTTP
//! ([`HttpSource`]) or an L1 in the same process (tests run the node's actors against an L1
//! whose blocks they make themselves). Every answer is parsed into the API's types
//! ([`basalt_rpc::l1`]) with bounded sizes by [`crate::L1Client`], whatever the source.

use crate::l1client::L1Error;
use jsonrpsee::core::client::{BatchResponse, ClientT, Error as ClientError};
use jsonrpsee::core::params::BatchRequestBuilder;
use jsonrpsee::core::traits::ToRpcParams;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Largest L1 answer accepted: a page of records or one blob in hex, with room.
const MAX_RESPONSE_BYTES: u32 = 8 * 1024 * 1024;

/// An L1 JSON-RPC endpoint: any jsonrpsee client, so [`basalt_rpc::L1ApiClient`]'s calls work
/// on it.
pub trait L1Source: ClientT + Clone + Send + Sync + 'static {
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

impl ClientT for HttpSource {
    async fn notification<Params>(&self, method: &str, params: Params) -> Result<(), ClientError>
    where
        Params: ToRpcParams + Send,
    {
        self.http.notification(method, params).await
    }

    async fn request<R, Params>(&self, method: &str, params: Params) -> Result<R, ClientError>
    where
        R: DeserializeOwned,
        Params: ToRpcParams + Send,
    {
        self.http.request(method, params).await
    }

    async fn batch_request<'a, R>(
        &self,
        batch: BatchRequestBuilder<'a>,
    ) -> Result<BatchResponse<'a, R>, ClientError>
    where
        R: DeserializeOwned + std::fmt::Debug + 'a,
    {
        self.http.batch_request(batch).await
    }
}

impl L1Source for HttpSource {
    fn url(&self) -> &str {
        &self.url
    }
}
