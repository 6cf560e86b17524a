//! A rollup's fee model, fixed at registration: how its sequencer prices execution and fills
//! blocks. What a user pays is that execution price plus the L1 price of the bytes the transaction
//! adds to its batch (computed by the L1's gas rules, in `basalt_l1::gas`).
//!
//! The model is the sequencer's admission and ordering rule, published on L1 so that anyone can
//! recompute a quote from the rollup's blocks; the state transition function only enforces the
//! rollup's `min_fee`, the floor every model starts from. The sequencer is paid the fees, so a
//! sequencer that charges less than its model only loses its own revenue; one that charges more
//! is visible against the published rule.

use crate::batch::encode_payload;
use crate::types::L2Tx;
use crate::zkbatch::{encode_zk_payload, PostedTx};
use crate::Profile;
use basalt_types::Amount;

/// Most transactions a fee model's block may hold (the sequencer's whole queue).
pub const MAX_BLOCK_TXS: u32 = 65_536;
/// The L2 base fee moves at most one part in this many per block (EIP-1559's eighth).
pub const BASE_FEE_CHANGE_DENOMINATOR: Amount = 8;

/// How a rollup's sequencer prices execution and fills its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum FeeModel {
    /// Execution costs `min_fee`, whatever the load; a block takes every queued transaction, in
    /// arrival order.
    #[default]
    Fixed,
    /// An L2 base fee that follows block fullness (EIP-1559): a block holds at most twice
    /// `target_txs` transactions in arrival order, and after each the base fee moves by up to an
    /// eighth towards what keeps blocks at the target, never below `min_fee`.
    #[serde(rename_all = "camelCase")]
    Eip1559 {
        /// Transactions a block aims at.
        target_txs: u32,
    },
    /// A priority auction: a block holds at most `block_txs` transactions, the highest fees
    /// first (each sender's in nonce order); any fee from the floor up bids.
    #[serde(rename_all = "camelCase")]
    Auction {
        /// Transactions a block holds at most.
        block_txs: u32,
    },
}

impl FeeModel {
    /// The code the model is encoded with.
    pub fn code(&self) -> u8 {
        match self {
            FeeModel::Fixed => 0,
            FeeModel::Eip1559 { .. } => 1,
            FeeModel::Auction { .. } => 2,
        }
    }

    /// Lowercase name.
    pub fn name(&self) -> &'static str {
        match self {
            FeeModel::Fixed => "fixed",
            FeeModel::Eip1559 { .. } => "eip1559",
            FeeModel::Auction { .. } => "auction",
        }
    }

    /// The most user transactions a block takes, if the model bounds it.
    pub fn block_capacity(&self) -> Option<usize> {
        match *self {
            FeeModel::Fixed => None,
            FeeModel::Eip1559 { target_txs } => Some(2 * target_txs as usize),
            FeeModel::Auction { block_txs } => Some(block_txs as usize),
        }
    }

    /// Checks the model's parameters, naming the first bad one.
    pub fn validate(&self) -> Result<(), &'static str> {
        match *self {
            FeeModel::Fixed => Ok(()),
            FeeModel::Eip1559 { target_txs } => {
                if target_txs == 0 || target_txs > MAX_BLOCK_TXS / 2 {
                    return Err("an EIP-1559 fee model's target must be 1 to 32,768 transactions");
                }
                Ok(())
            }
            FeeModel::Auction { block_txs } => {
                if block_txs == 0 || block_txs > MAX_BLOCK_TXS {
                    return Err("an auction's blocks must hold 1 to 65,536 transactions");
                }
                Ok(())
            }
        }
    }

    /// The L2 base fee after a block of `user_txs` user transactions whose base fee was `base`,
    /// never below `floor` (the rollup's `min_fee`). Only the EIP-1559 model moves it.
    pub fn next_base_fee(&self, base: Amount, user_txs: usize, floor: Amount) -> Amount {
        let FeeModel::Eip1559 { target_txs } = *self else {
            return floor;
        };
        let (target, used) = (target_txs as Amount, user_txs as Amount);
        let base = base.max(floor);
        let next = if used > target {
            // At least one unit up, so that a base fee of a few units still rises.
            let up =
                (base.saturating_mul(used - target) / target / BASE_FEE_CHANGE_DENOMINATOR).max(1);
            base.saturating_add(up)
        } else {
            base - base.saturating_mul(target - used) / target / BASE_FEE_CHANGE_DENOMINATOR
        };
        next.max(floor)
    }
}

impl std::fmt::Display for FeeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            FeeModel::Fixed => write!(f, "fixed"),
            FeeModel::Eip1559 { target_txs } => write!(f, "eip1559:{target_txs}"),
            FeeModel::Auction { block_txs } => write!(f, "auction:{block_txs}"),
        }
    }
}

impl std::str::FromStr for FeeModel {
    type Err = String;

    /// `fixed`, `eip1559:TARGET` or `auction:SIZE`, checked.
    fn from_str(s: &str) -> Result<Self, String> {
        let (kind, arg) = s.split_once(':').unwrap_or((s, ""));
        let count = || {
            arg.parse::<u32>()
                .map_err(|_| format!("{kind} needs a transaction count: {kind}:N"))
        };
        let model = match kind {
            "fixed" if arg.is_empty() => FeeModel::Fixed,
            "eip1559" => FeeModel::Eip1559 {
                target_txs: count()?,
            },
            "auction" => FeeModel::Auction {
                block_txs: count()?,
            },
            _ => {
                return Err(format!(
                    "unknown fee model {s:?}: fixed, eip1559:TARGET or auction:SIZE"
                ))
            }
        };
        model.validate().map_err(str::to_string)?;
        Ok(model)
    }
}

/// The sequencer's execution price as its blocks left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeMarket {
    /// The rollup's model.
    pub model: FeeModel,
    /// The rollup's `min_fee`: the least execution price of any model.
    pub floor: Amount,
    /// The L2 base fee the next block charges (the floor but under EIP-1559).
    pub base_fee: Amount,
}

impl FeeMarket {
    /// The market of a rollup at genesis.
    pub fn new(model: FeeModel, floor: Amount) -> Self {
        FeeMarket {
            model,
            floor,
            base_fee: floor,
        }
    }

    /// Moves the market past a block of `user_txs` user transactions.
    pub fn after_block(&mut self, user_txs: usize) {
        self.base_fee = self
            .model
            .next_base_fee(self.base_fee, user_txs, self.floor);
    }

    /// The least execution price a transaction must pay to be admitted now.
    pub fn execution_price(&self) -> Amount {
        self.base_fee
    }

    /// An execution price that stays enough through the next block (the base fee rises at most
    /// an eighth a block).
    pub fn execution_quote(&self) -> Amount {
        match self.model {
            FeeModel::Eip1559 { .. } => self
                .base_fee
                .saturating_add(self.base_fee.div_ceil(BASE_FEE_CHANGE_DENOMINATOR)),
            FeeModel::Fixed | FeeModel::Auction { .. } => self.base_fee,
        }
    }
}

/// Bytes `tx` adds to its batch before compression: what its L1 data is priced by (an upper
/// bound of its share of the compressed blob). A ZK batch carries no signature and no nonce.
pub fn posted_bytes<P: Profile>(tx: &L2Tx<P>, zk: bool) -> u64 {
    // A one-transaction payload, less its version byte and its one-byte count.
    let payload = match zk {
        true => encode_zk_payload(&[PostedTx::from(tx)]),
        false => encode_payload(std::slice::from_ref(tx)),
    };
    payload.len() as u64 - 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_block_raises_the_base_fee_an_eighth_and_an_empty_one_lowers_it() {
        let m = FeeModel::Eip1559 { target_txs: 100 };
        assert_eq!(m.next_base_fee(800, 200, 1), 900);
        assert_eq!(m.next_base_fee(800, 100, 1), 800);
        assert_eq!(m.next_base_fee(800, 0, 1), 700);
        assert_eq!(m.next_base_fee(800, 150, 1), 850);
    }

    #[test]
    fn the_base_fee_never_falls_below_the_floor_and_a_small_one_still_rises() {
        let m = FeeModel::Eip1559 { target_txs: 100 };
        assert_eq!(m.next_base_fee(10, 0, 10), 10);
        assert_eq!(m.next_base_fee(1, 101, 1), 2);
        assert_eq!(m.next_base_fee(Amount::MAX, 200, 1), Amount::MAX);
    }

    #[test]
    fn only_the_eip1559_model_moves_the_price() {
        for m in [FeeModel::Fixed, FeeModel::Auction { block_txs: 10 }] {
            let mut market = FeeMarket::new(m, 5);
            market.after_block(1_000);
            assert_eq!(market.execution_price(), 5);
            assert_eq!(market.execution_quote(), 5);
        }
        let mut market = FeeMarket::new(FeeModel::Eip1559 { target_txs: 1 }, 80);
        market.after_block(2);
        assert_eq!(market.execution_price(), 90);
        assert!(market.execution_quote() >= market.model.next_base_fee(90, 2, 80));
    }

    #[test]
    fn a_model_with_an_empty_or_oversized_block_is_refused() {
        assert!(FeeModel::Eip1559 { target_txs: 0 }.validate().is_err());
        assert!(FeeModel::Eip1559 { target_txs: 32_769 }.validate().is_err());
        assert!(FeeModel::Auction { block_txs: 0 }.validate().is_err());
        assert!(FeeModel::Auction { block_txs: 65_537 }.validate().is_err());
        assert!(FeeModel::Auction { block_txs: 65_536 }.validate().is_ok());
        assert!(FeeModel::Fixed.validate().is_ok());
    }

    #[test]
    fn a_transaction_is_priced_by_its_bytes_in_the_batch() {
        use crate::{encode_zk_payload, Optimistic, Zk};
        use basalt_types::Signature;
        let tx = L2Tx::<Optimistic>::Transfer {
            from: 3,
            to: 300,
            amount: 1_000_000,
            fee: 10,
            nonce: 1,
            signature: Signature([0; 64]),
        };
        let two = encode_payload(&[tx, tx]).len() - encode_payload(&[tx]).len();
        assert_eq!(posted_bytes(&tx, false), two as u64);
        let zk = L2Tx::<Zk>::Transfer {
            from: 3,
            to: 300,
            amount: 1_000_000,
            fee: 10,
            nonce: 1,
            signature: basalt_types::zk::BabyKeypair::dev(b"fees")
                .sign(&basalt_types::zk::Felt::from_u128(1)),
        };
        let posted = PostedTx::from(&zk);
        let two = encode_zk_payload(&[posted, posted]).len() - encode_zk_payload(&[posted]).len();
        assert_eq!(posted_bytes(&zk, true), two as u64);
        assert!(posted_bytes(&zk, true) < 10);
    }

    #[test]
    fn a_model_reads_back_from_its_name() {
        for m in [
            FeeModel::Fixed,
            FeeModel::Eip1559 { target_txs: 250 },
            FeeModel::Auction { block_txs: 24 },
        ] {
            assert_eq!(m.to_string().parse::<FeeModel>(), Ok(m));
        }
        assert!("eip1559".parse::<FeeModel>().is_err());
        assert!("auction:0".parse::<FeeModel>().is_err());
        assert!("lottery:3".parse::<FeeModel>().is_err());
    }

    #[test]
    fn the_json_names_the_kind_and_its_parameter() {
        let m = FeeModel::Eip1559 { target_txs: 7 };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"kind":"eip1559","targetTxs":7}"#);
        assert_eq!(serde_json::from_str::<FeeModel>(&json).unwrap(), m);
        assert_eq!(
            serde_json::from_str::<FeeModel>(r#"{"kind":"auction","blockTxs":3}"#).unwrap(),
            FeeModel::Auction { block_txs: 3 }
        );
    }
}
