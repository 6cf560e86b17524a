//! Consensus on English: a receipt that hashed its failure message made every rewording a hard
//! fork, and let two builds with different messages disagree on the receipts root. Receipts now
//! commit to a numbered code.

use crate::common::*;
use basalt_l1::{Action, FailureCode, L1State, Receipt};
use basalt_types::{Decode, Encode, Hash};

#[test]
fn a_receipt_commits_to_the_failure_code_and_never_to_its_message() {
    let (mut s, _) = L1State::genesis(&genesis()).unwrap();
    let (exec, _) = step(&mut s, vec![tx(&key(0), 0, Action::Unstake { amount: 5 })]);
    let receipt = exec.diff.receipts[0].clone();
    assert_eq!(receipt.failure, Some(FailureCode::UnstakeExceedsStake));
    let bytes = receipt.to_bytes();
    let message = FailureCode::UnstakeExceedsStake.describe().as_bytes();
    assert!(!bytes.windows(message.len()).any(|w| w == message));
    assert!(bytes.windows(2).any(|w| w == 2u16.to_le_bytes()));
    assert_eq!(Receipt::from_bytes(&bytes).unwrap(), receipt);
    // An unknown code is refused rather than read as some other failure.
    let mut unknown = Receipt {
        tx_hash: Hash::ZERO,
        failure: Some(FailureCode::ZeroStake),
        gas_used: 1,
        fee_paid: 1,
    }
    .to_bytes();
    unknown[33..35].copy_from_slice(&999u16.to_le_bytes());
    assert!(Receipt::from_bytes(&unknown).is_err());
}
