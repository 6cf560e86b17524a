//! The documented signature of each method (`docs/rpc.md`), and a server middleware that answers
//! a call whose parameters do not parse with it: a user who sent the wrong parameters learns
//! which ones the method takes.

use crate::INVALID_PARAMS;
use jsonrpsee::server::middleware::rpc::{Batch, MethodResponse, Notification, RpcServiceT};
use jsonrpsee::types::{ErrorObject, Request};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::OnceLock;

/// The API reference the signatures come from.
const REFERENCE: &str = include_str!("../../../docs/rpc.md");

/// Every method `docs/rpc.md` documents (as a heading or a list item), with its signature, e.g.
/// `l1_getRollupDeposits` → `l1_getRollupDeposits(rollup, from, limit?)`.
pub fn documented_methods() -> &'static BTreeMap<String, String> {
    static METHODS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    METHODS.get_or_init(|| signatures(REFERENCE))
}

/// The signatures documented in `doc`.
fn signatures(doc: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in doc.lines() {
        let Some(rest) = line
            .strip_prefix("### `")
            .or_else(|| line.strip_prefix("- `"))
        else {
            continue;
        };
        if !(rest.starts_with("l1_") || rest.starts_with("l2_")) {
            continue;
        }
        let (Some(open), Some(close)) = (rest.find('('), rest.find(')')) else {
            continue;
        };
        if close > open {
            out.insert(rest[..open].to_string(), rest[..=close].to_string());
        }
    }
    out
}

/// A server middleware: a call refused with `Invalid params` gets its method's documented
/// signature added to the error's `data`. (Calls inside a JSON-RPC batch are passed through.)
#[derive(Clone)]
pub struct ParamsUsage<S>(pub S);

impl<S> RpcServiceT for ParamsUsage<S>
where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Clone
        + Send
        + Sync
        + 'static,
{
    type MethodResponse = MethodResponse;
    type BatchResponse = MethodResponse;
    type NotificationResponse = MethodResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let service = self.0.clone();
        async move {
            let usage = documented_methods().get(request.method_name());
            let id = request.id().into_owned();
            let response = service.call(request).await;
            match usage {
                Some(usage) if response.as_error_code() == Some(INVALID_PARAMS) => {
                    with_usage(response, id, usage)
                }
                _ => response,
            }
        }
    }

    fn batch<'a>(&self, requests: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.0.batch(requests)
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        self.0.notification(n)
    }
}

/// `response`, a parameter error of the call `id`, with `usage` added to its detail when the
/// parameters did not parse (a parameter that parsed but was refused says why already).
fn with_usage(
    response: MethodResponse,
    id: jsonrpsee::types::Id<'static>,
    usage: &str,
) -> MethodResponse {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Error,
    }
    #[derive(serde::Deserialize)]
    struct Error {
        message: String,
        data: Option<serde_json::Value>,
    }
    let Ok(e) = serde_json::from_str::<Envelope>(response.as_json().get()) else {
        return response;
    };
    if e.error.message != "Invalid params" {
        return response;
    }
    let detail = match e.error.data {
        Some(serde_json::Value::String(s)) => format!("{s}; "),
        Some(other) => format!("{other}; "),
        None => String::new(),
    };
    let data = format!("{detail}the method takes {usage} (docs/rpc.md)");
    MethodResponse::error(
        id,
        ErrorObject::owned(INVALID_PARAMS, e.error.message, Some(data)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_read_from_headings_and_list_items_only() {
        let doc = "### `l1_a(x, y?)`\ntext `l1_b(z)` inline\n- `l2_c()`: c\n### Rollups\n";
        let s = signatures(doc);
        assert_eq!(s.len(), 2);
        assert_eq!(s["l1_a"], "l1_a(x, y?)");
        assert_eq!(s["l2_c"], "l2_c()");
    }
}
