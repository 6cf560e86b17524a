//! `docs/rpc.md` is the API's reference: every method it documents is a method of the traits, with
//! as many parameters, and every method of the traits is documented.

use std::collections::BTreeMap;

/// The methods of the `#[rpc]` traits in `source`, in namespace `ns`, with their parameter
/// counts: calls, subscriptions, their notifications and unsubscribe methods.
fn trait_methods(source: &str, ns: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut rest = source;
    let next = |s: &str| {
        let m = s.find("#[method(name = \"");
        let sub = s.find("#[subscription(name = \"");
        m.into_iter().chain(sub).min()
    };
    while let Some(at) = next(rest) {
        let attr = &rest[at..];
        let name_start = attr.find('"').unwrap() + 1;
        let name_len = attr[name_start..].find('"').unwrap();
        let name = &attr[name_start..name_start + name_len];
        let sig_start = attr.find("fn ").unwrap();
        let sig = &attr[sig_start..];
        let args = &sig[sig.find('(').unwrap() + 1..sig.find(')').unwrap()];
        let params = args
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty() && *p != "&self")
            .count();
        out.insert(format!("{ns}_{name}"), params);
        if attr.starts_with("#[subscription") {
            let attr_end = attr.find(")]").unwrap();
            let a = &attr[..attr_end];
            let quoted: Vec<&str> = a.split('"').skip(1).step_by(2).collect();
            // name => notification, then the unsubscribe method (which takes the subscription id).
            out.insert(format!("{ns}_{}", quoted[1]), 0);
            out.insert(format!("{ns}_{}", quoted[2]), 1);
        }
        rest = &attr[sig_start..];
    }
    out
}

/// The methods `docs/rpc.md` documents, with their parameter counts.
fn documented() -> BTreeMap<String, usize> {
    basalt_rpc::documented_methods()
        .iter()
        .map(|(name, sig)| {
            let args = &sig[sig.find('(').unwrap() + 1..sig.len() - 1];
            let params = args.split(',').filter(|p| !p.trim().is_empty()).count();
            (name.clone(), params)
        })
        .collect()
}

#[test]
fn docs_rpc_md_documents_exactly_the_methods_of_the_traits() {
    let doc = include_str!("../../../docs/rpc.md");
    let mut code = trait_methods(include_str!("../src/l1_api.rs"), "l1");
    code.extend(trait_methods(include_str!("../src/l2_api.rs"), "l2"));
    // Notifications are documented in their subscription's text, not as methods.
    for n in ["l1_block", "l2_block"] {
        assert_eq!(
            code.remove(n),
            Some(0),
            "{n} is a notification of the traits"
        );
        assert!(
            doc.contains(&format!("`{n}`")),
            "docs/rpc.md names notification {n}"
        );
    }
    let mut docs = documented();
    // The unsubscribe methods are named in their subscription's text.
    for u in ["l1_unsubscribeBlocks", "l2_unsubscribeBlocks"] {
        assert!(doc.contains(&format!("`{u}(")), "docs/rpc.md names {u}");
        docs.entry(u.to_string()).or_insert(1);
    }
    assert!(code.len() > 25, "the traits were read: {code:?}");
    assert_eq!(
        docs, code,
        "docs/rpc.md and the traits (crates/basalt-rpc/src/l*_api.rs) disagree on the methods or their parameter counts"
    );
}
