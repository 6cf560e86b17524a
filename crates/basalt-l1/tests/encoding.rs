//! The test vectors of `docs/encoding.md`, made by the code: every L1 action in a signed
//! transaction, L2 transactions of both profiles, varints and domain-separated hashes. The test
//! fails if the document's vectors differ from what the code makes, and shows the difference;
//! `UPDATE_VECTORS=1 cargo test -p basalt-l1 --test encoding` rewrites them.

use basalt_l1::{
    blob_hash, Action, ExitClaim, RollupKind, RollupParams, SettledState, Transaction,
    WithdrawalClaim,
};
use basalt_l2::{L2Tx, Optimistic, Zk};
use basalt_types::codec::put_varint;
use basalt_types::zk::BabyKeypair;
use basalt_types::{dev_keypair, hash_parts, Encode, Hash, Keypair, Signature};
use std::fmt::Write;

const BEGIN: &str = "<!-- vectors:begin (made by crates/basalt-l1/tests/encoding.rs) -->";
const END: &str = "<!-- vectors:end -->";

fn key(i: u64) -> Keypair {
    dev_keypair("basalt/encoding-vectors", i)
}

/// A placeholder digest, distinct per `i`.
fn digest(i: u8) -> Hash {
    hash_parts("basalt/encoding-vectors/digest", &[&[i]])
}

fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

/// The L1 vectors: every action once (a deposit twice), each in the same transaction header.
fn actions() -> Vec<(&'static str, Action)> {
    let (k1, k0) = (key(1).public(), key(0).public());
    let forced = L2Tx::<Optimistic>::Withdraw {
        from: 3,
        recipient: k0,
        amount: 5,
        fee: 1,
        nonce: 0,
        signature: Signature([0; 64]),
    }
    .signed(0, &key(0));
    let state = SettledState {
        accounts_root: digest(1),
        account_count: 4,
        next_deposit: 6,
        withdrawals_tree_root: digest(2),
        withdrawal_count: 1,
    };
    vec![
        (
            "transfer of 10^18 base units (1 token) to key 1",
            Action::Transfer {
                to: k1,
                amount: 1_000_000_000_000_000_000,
            },
        ),
        ("stake of 300", Action::Stake { amount: 300 }),
        ("unstake of 300", Action::Unstake { amount: 300 }),
        (
            "blob of the 6 bytes `basalt`, at most 2 a blob byte",
            Action::PostBlob {
                data: b"basalt".to_vec(),
                max_fee_per_blob_byte: 2,
            },
        ),
        (
            "register the optimistic rollup `demo`: sequencer key 1, window 100, bonds 1,000 and 500, \
             minimum fee 1, clock 10, reward 50 %, force-inclusion 150, escape 500, an EIP-1559 fee model aiming at 250 transactions a block",
            Action::RegisterRollup {
                params: RollupParams {
                    name: "demo".into(),
                    kind: RollupKind::Optimistic,
                    sequencer: k1,
                    challenge_window: 100,
                    proposer_bond: 1_000,
                    min_fee: 1,
                    clock_extension: 10,
                    dispute_bond: 500,
                    slash_reward_percent: 50,
                    force_inclusion_blocks: 150,
                    escape_blocks: 500,
                    fee_model: basalt_l1::FeeModel::Eip1559 { target_txs: 250 },
                },
            },
        ),
        (
            "deposit of 500 into rollup 1 for key 1, a new account",
            Action::Deposit {
                rollup: 1,
                account: None,
                key: k1,
                amount: 500,
            },
        ),
        (
            "deposit of 500 into rollup 1 for key 1, crediting account 3",
            Action::Deposit {
                rollup: 1,
                account: Some(3),
                key: k1,
                amount: 500,
            },
        ),
        (
            "batch 2 of rollup 1: data 0x010203, deposits up to 4, at most 9 a blob byte",
            Action::PostBatch {
                rollup: 1,
                index: 2,
                data: vec![1, 2, 3],
                data_hash: blob_hash(&[1, 2, 3]),
                deposits_end: 4,
                max_fee_per_blob_byte: 9,
            },
        ),
        (
            "output D4 of batch 2 of rollup 1 on prior D3",
            Action::ProposeOutput {
                rollup: 1,
                batch: 2,
                prior: digest(3),
                output: digest(4),
            },
        ),
        (
            "withdrawal claim: rollup 1, batch 2, state root D1, withdrawals tree root D2, 3 \
             withdrawals, index 1, 40 to key 1, path [D5, D6]",
            Action::FinalizeWithdrawal(WithdrawalClaim {
                rollup: 1,
                batch: 2,
                state_root: digest(1),
                withdrawals_tree_root: digest(2),
                withdrawal_count: 3,
                index: 1,
                recipient: k1,
                amount: 40,
                proof: vec![digest(5), digest(6)],
            }),
        ),
        (
            "counter: rollup 1, proposal 5, parent claim 2, attack, asserting D7",
            Action::Counter {
                rollup: 1,
                proposal: 5,
                parent: 2,
                attack: true,
                value: digest(7),
            },
        ),
        (
            "one-step proof: rollup 1, proposal 5, leaf claim 9, defend, witness 0xaabb",
            Action::Step {
                rollup: 1,
                proposal: 5,
                leaf: 9,
                attack: false,
                witness: vec![0xaa, 0xbb],
            },
        ),
        (
            "validity proof of batch 2 of rollup 1: output D8, proof 0x01020304 (an encoding \
             example: a real proof is 128 bytes)",
            Action::ProveBatch {
                rollup: 1,
                batch: 2,
                output: digest(8),
                proof: vec![1, 2, 3, 4],
            },
        ),
        (
            "revert the batches of rollup 1 from batch 2",
            Action::RevertBatches { rollup: 1, from: 2 },
        ),
        (
            "exit: rollup 1, the settled state S, account 2 of key 1 holding 70 at nonce 4, path \
             [D5], to key 0, signature 0x11 x 64 (an encoding example)",
            Action::Exit(ExitClaim {
                rollup: 1,
                state,
                index: 2,
                key: k1,
                balance: 70,
                nonce: 4,
                proof: vec![digest(5)],
                recipient: k0,
                signature: vec![0x11; 64],
            }),
        ),
        (
            "refund of deposit 6 of rollup 1 against the settled state S",
            Action::RefundDeposit {
                rollup: 1,
                index: 6,
                state,
            },
        ),
        (
            "force in, on rollup 0, the L2 withdrawal vector `l2/withdraw` signed by key 0",
            Action::ForceInclude {
                rollup: 0,
                key: k0,
                tx: forced.to_bytes(),
            },
        ),
    ]
}

/// `action` in the vectors' transaction header, signed by key 0.
fn signed(action: Action) -> basalt_l1::SignedTransaction {
    Transaction {
        chain_id: 31337,
        nonce: 7,
        max_fee_per_gas: 1_000,
        priority_fee_per_gas: 10,
        gas_limit: 100_000,
        action,
    }
    .sign(&key(0))
}

/// The L2 transactions of the optimistic profile, on rollup 0, signed by key 0.
fn l2_optimistic() -> Vec<(&'static str, L2Tx<Optimistic>)> {
    let unsigned = Signature([0; 64]);
    vec![
        (
            "transfer of 25, fee 1, nonce 0, from account 3 to account 4",
            L2Tx::Transfer {
                from: 3,
                to: 4,
                amount: 25,
                fee: 1,
                nonce: 0,
                signature: unsigned,
            },
        ),
        (
            "withdrawal of 5, fee 1, nonce 0, from account 3 to L1 key 0",
            L2Tx::Withdraw {
                from: 3,
                recipient: key(0).public(),
                amount: 5,
                fee: 1,
                nonce: 0,
                signature: unsigned,
            },
        ),
    ]
}

/// The whole vectors section of the document.
fn render() -> String {
    let mut s = String::new();
    let k0 = key(0);
    let _ = writeln!(s, "{BEGIN}\n");
    let _ = writeln!(s, "### Keys\n\n```text");
    for i in 0..2 {
        let k = key(i);
        let _ = writeln!(
            s,
            "key {i}  secret {}\n       public {}",
            hex(&k.secret()),
            k.public().to_hex()
        );
    }
    let baby = BabyKeypair::of_l1_key(&k0);
    let private = hash_parts("basalt/zk-key-of-l1-key", &[&k0.secret()]);
    let _ = writeln!(
        s,
        "key 0 on a ZK rollup  private {}\n                      public  {}",
        private.to_hex(),
        hex(&baby.public().to_bytes())
    );
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "Placeholder digests: `Dn = H(\"basalt/encoding-vectors/digest\", [byte n])`; `S` is the settled state \
         `{{accounts root D1, 4 accounts, next deposit 6, withdrawals tree root D2, 1 withdrawal}}`.\n"
    );

    let _ = writeln!(s, "### Varints and hashes\n\n```text");
    for v in [
        0u128,
        1,
        127,
        128,
        300,
        1_000_000_000_000_000_000,
        u128::MAX,
    ] {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        let _ = writeln!(s, "{:<47} {}", format!("varint {v}"), hex(&out));
    }
    let _ = writeln!(
        s,
        "{:<47} {}",
        "H(\"basalt/example\", [\"abc\", \"\"])",
        hash_parts("basalt/example", &[b"abc", b""]).to_hex()
    );
    let _ = writeln!(
        s,
        "{:<47} {}",
        "blob hash of 0x010203",
        blob_hash(&[1, 2, 3]).to_hex()
    );
    for i in 1..=8 {
        let _ = writeln!(s, "{:<47} {}", format!("D{i}"), digest(i).to_hex());
    }
    let _ = writeln!(s, "```\n");

    let _ = writeln!(
        s,
        "### L1 transactions\n\nEach signed by key 0 with chain id 31337, nonce 7, max fee 1,000 a gas, priority fee 10 \
         a gas and gas limit 100,000.\n"
    );
    for (what, action) in actions() {
        let tx = signed(action.clone());
        let _ = writeln!(s, "{what}:\n\n```text");
        let _ = writeln!(s, "action       {}", hex(&action.to_bytes()));
        let _ = writeln!(s, "transaction  {}", hex(&tx.to_bytes()));
        let _ = writeln!(s, "signing hash {}", tx.signing_hash().to_hex());
        let _ = writeln!(s, "signature    {}", hex(&tx.signature.0));
        let _ = writeln!(s, "id           {}", tx.hash().to_hex());
        let _ = writeln!(s, "```\n");
    }

    let _ = writeln!(
        s,
        "### L2 transactions\n\nOn rollup 0, signed by key 0 (optimistic: ed25519; ZK: EdDSA-Poseidon with key 0's \
         BabyJubJub key, on rollup 2).\n"
    );
    for (what, tx) in l2_optimistic() {
        let signed = tx.signed(0, &k0);
        let _ = writeln!(s, "{what}:\n\n```text");
        let _ = writeln!(s, "signing message {}", tx.signing_message(0).to_hex());
        let _ = writeln!(s, "transaction     {}", hex(&signed.to_bytes()));
        let _ = writeln!(s, "id              {}", signed.hash().to_hex());
        let _ = writeln!(s, "```\n");
    }
    let zk = L2Tx::<Zk>::Transfer {
        from: 3,
        to: 4,
        amount: 25,
        fee: 1,
        nonce: 0,
        signature: basalt_l2::unchecked_signature(),
    };
    let signed = zk.signed_zk(2, &baby);
    let _ = writeln!(
        s,
        "ZK: transfer of 25, fee 1, nonce 0, from account 3 to account 4, on rollup 2:\n\n```text"
    );
    let _ = writeln!(
        s,
        "signing message {}",
        hex(&zk.signing_message(2).to_be_bytes())
    );
    let _ = writeln!(s, "transaction     {}", hex(&signed.to_bytes()));
    let _ = writeln!(s, "id              {}", signed.hash().to_hex());
    let _ = writeln!(s, "```\n");
    let _ = write!(s, "{END}");
    s
}

#[test]
fn the_documented_vectors_are_what_the_code_encodes_hashes_and_signs() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/encoding.md");
    let doc = std::fs::read_to_string(path).expect("docs/encoding.md");
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/encoding.md has no vectors section between {BEGIN} and {END}");
    };
    let documented = &doc[b..e + END.len()];
    let made = render();
    if documented == made {
        return;
    }
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        let updated = format!("{}{made}{}", &doc[..b], &doc[e + END.len()..]);
        std::fs::write(path, updated).expect("writing docs/encoding.md");
        return;
    }
    let first = documented
        .lines()
        .zip(made.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(0);
    panic!(
        "docs/encoding.md's vectors differ from the code's from line {} of the section:\n  doc:  {}\n  code: {}\n\
         (an encoding changed: if on purpose, rerun with UPDATE_VECTORS=1 and review the diff)",
        first + 1,
        documented.lines().nth(first).unwrap_or(""),
        made.lines().nth(first).unwrap_or("")
    );
}

#[test]
fn every_vector_decodes_to_what_made_it_and_its_signature_verifies() {
    for (what, action) in actions() {
        let tx = signed(action);
        let back = basalt_l1::SignedTransaction::decode_untrusted(&tx.to_bytes()).unwrap();
        assert_eq!(back, tx, "{what}");
        assert!(back.verify().is_ok(), "{what}");
    }
    for (what, tx) in l2_optimistic() {
        let signed = tx.signed(0, &key(0));
        let back = L2Tx::<Optimistic>::decode_untrusted(&signed.to_bytes()).unwrap();
        assert_eq!(back, signed, "{what}");
        let (_, sig) = back.signer().unwrap();
        assert!(key(0)
            .public()
            .verify(&back.signing_message(0).0, sig)
            .is_ok());
    }
}
