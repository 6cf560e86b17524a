//! The node core without consensus: proposing, verifying with mempool-reused signatures, finalizing.

use basalt_l1::{Action, Params, Transaction, ONE_TOKEN};
use basalt_node::chain::{Chain, ChainError};
use basalt_node::devnet::{dev_account, devnet_genesis, DEVNET_CHAIN_ID};
use basalt_node::mempool::MempoolLimits;
use basalt_node::validator::open_chain;
use basalt_types::Encode;

fn chain(dir: &tempfile::TempDir, name: &str) -> Chain {
    let genesis = devnet_genesis(1, Params::default(), 1_000);
    open_chain(&genesis, &dir.path().join(name), MempoolLimits::default())
        .unwrap()
        .chain
}

fn transfer(from: u64, nonce: u64) -> Vec<u8> {
    Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        action: Action::Transfer {
            to: dev_account(9).public(),
            amount: ONE_TOKEN,
        },
    }
    .sign(&dev_account(from))
    .to_bytes()
}

#[test]
fn verifiers_reuse_admitted_signatures_but_still_reject_forged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (mut proposer, mut verifier) = (chain(&dir, "p.redb"), chain(&dir, "v.redb"));
    let (t1, t2) = (transfer(0, 0), transfer(1, 0));
    proposer.submit(&t1).unwrap();
    proposer.submit(&t2).unwrap();
    verifier.submit(&t1).unwrap(); // the verifier has seen only the first
    let head = proposer.state().head().clone();
    let who = proposer.state().committee()[0];
    let block = proposer
        .propose(head.hash(), head.timestamp_ms + 200, who, 100)
        .unwrap();
    assert_eq!(block.txs.len(), 2);

    let mut forged = block.clone();
    forged.txs[1].signature.0[0] ^= 1;
    match verifier.verify(&forged) {
        Err(ChainError::Invalid(basalt_l1::BlockError::BadSignature { index: 1, .. })) => {}
        other => panic!("forged signature accepted or misreported: {other:?}"),
    }
    verifier.verify(&block).unwrap();
    let h = verifier.finalize(&block).unwrap();
    assert_eq!(h.height, 1);
    assert_eq!(
        verifier.mempool_len(),
        0,
        "included transactions leave the mempool"
    );
    assert_eq!(verifier.state().head().state_root, block.header.state_root);
}

#[test]
fn a_restarted_chain_resumes_from_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let root = {
        let mut c = chain(&dir, "s.redb");
        c.submit(&transfer(0, 0)).unwrap();
        let head = c.state().head().clone();
        let who = c.state().committee()[0];
        let block = c
            .propose(head.hash(), head.timestamp_ms + 200, who, 100)
            .unwrap();
        c.finalize(&block).unwrap();
        c.state().head().state_root
    };
    let c = chain(&dir, "s.redb");
    assert_eq!(c.state().head().height, 1);
    assert_eq!(c.state().head().state_root, root);
    assert_eq!(
        c.state().account(&dev_account(0).public()).unwrap().nonce,
        1
    );
    assert_eq!(
        c.state().circulating() + c.state().burned(),
        c.state().genesis_supply()
    );
}
