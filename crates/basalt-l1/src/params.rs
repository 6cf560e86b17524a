//! Chain parameters and the genesis file.

use crate::gas::REGISTER_ROLLUP_GAS;
use basalt_types::{Amount, PublicKey};
use serde::{Deserialize, Serialize};

/// Largest blob any chain accepts; a chain's `max_blob_bytes` may be lower.
pub const MAX_BLOB_BYTES: usize = 128 * 1024;
/// Largest encoded transaction: a maximal blob plus the fixed fields.
pub const MAX_TX_BYTES: usize = MAX_BLOB_BYTES + 256;
/// Most transactions a block may carry, whatever the gas limit.
pub const MAX_BLOCK_TXS: usize = 65_536;

/// Consensus parameters, fixed at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Target time between blocks, in milliseconds.
    pub block_time_ms: u64,
    /// Most gas a block may use.
    pub block_gas_limit: u64,
    /// Gas per block at which the base fee stays put.
    pub block_gas_target: u64,
    /// Base fee of the first block, per gas.
    pub initial_base_fee: u64,
    /// Floor of the base fee, per gas.
    pub min_base_fee: u64,
    /// Most blob bytes a block may carry.
    pub blob_max_bytes_per_block: u64,
    /// Blob bytes per block at which the blob base fee stays put.
    pub blob_target_bytes_per_block: u64,
    /// Largest single blob, in bytes (at most 131,072).
    pub max_blob_bytes: u64,
    /// Blob base fee of the first block, per byte.
    pub initial_blob_base_fee: u64,
    /// Floor of the blob base fee, per byte.
    pub min_blob_base_fee: u64,
    /// Blocks a blob stays retrievable before it is pruned.
    pub blob_retention_blocks: u64,
    /// Blocks per epoch (at least 2); the committee changes only at epoch boundaries. Epoch `e` is
    /// heights `e * epoch_length ..= (e + 1) * epoch_length - 1` (genesis is in epoch 0).
    pub epoch_length: u64,
    /// Committee size: the top stakers, each with an equal vote.
    pub max_validators: u32,
    /// Least stake that makes an account eligible for the committee.
    #[serde(with = "basalt_types::serde_amount")]
    pub min_stake: Amount,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            block_time_ms: 200,
            block_gas_limit: 210_000_000,
            block_gas_target: 105_000_000,
            initial_base_fee: 1_000_000_000,
            min_base_fee: 1_000,
            blob_max_bytes_per_block: 6 * 131_072,
            blob_target_bytes_per_block: 3 * 131_072,
            max_blob_bytes: 131_072,
            initial_blob_base_fee: 1_000,
            min_blob_base_fee: 1,
            blob_retention_blocks: 100_000,
            epoch_length: 1_000,
            max_validators: 100,
            min_stake: 1_000 * ONE_TOKEN,
        }
    }
}

/// One whole token in base units.
pub const ONE_TOKEN: Amount = 1_000_000_000_000_000_000;

/// Base units as tokens, for people: "1.5", trailing zeros trimmed.
pub fn format_tokens(units: Amount) -> String {
    let whole = units / ONE_TOKEN;
    let frac = units % ONE_TOKEN;
    if frac == 0 {
        return whole.to_string();
    }
    let frac = format!("{frac:018}");
    format!("{whole}.{}", frac.trim_end_matches('0'))
}

/// Why a genesis or its parameters were rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// A parameter is out of range.
    #[error("invalid parameter {name}: {why}")]
    InvalidParam {
        /// The parameter.
        name: &'static str,
        /// What is wrong.
        why: &'static str,
    },
    /// An account or validator is listed twice.
    #[error("duplicate genesis entry for {0}")]
    Duplicate(PublicKey),
    /// Total supply does not fit in 128 bits.
    #[error("genesis supply overflows")]
    SupplyOverflow,
    /// No validator has enough stake.
    #[error("no genesis validator has at least min_stake")]
    NoValidators,
    /// The file could not be parsed.
    #[error("genesis file: {0}")]
    Parse(String),
}

impl Params {
    /// The epoch that the block at `height` belongs to.
    pub fn epoch_of(&self, height: u64) -> u64 {
        height / self.epoch_length
    }

    /// Whether the block at `height` is the last of its epoch: it selects the next epoch's committee.
    pub fn closes_epoch(&self, height: u64) -> bool {
        height % self.epoch_length == self.epoch_length - 1
    }

    /// Checks that every parameter is usable.
    pub fn validate(&self) -> Result<(), GenesisError> {
        let bad = |name, why| Err(GenesisError::InvalidParam { name, why });
        if self.block_time_ms == 0 {
            return bad("block_time_ms", "must be positive");
        }
        if self.block_gas_target == 0 || self.block_gas_target > self.block_gas_limit {
            return bad("block_gas_target", "must be in 1..=block_gas_limit");
        }
        if self.block_gas_limit < REGISTER_ROLLUP_GAS {
            return bad("block_gas_limit", "must fit one transaction");
        }
        if self.min_base_fee == 0 || self.initial_base_fee < self.min_base_fee {
            return bad(
                "min_base_fee",
                "must be positive and at most initial_base_fee",
            );
        }
        if self.min_blob_base_fee == 0 || self.initial_blob_base_fee < self.min_blob_base_fee {
            return bad(
                "min_blob_base_fee",
                "must be positive and at most initial_blob_base_fee",
            );
        }
        if self.max_blob_bytes == 0 || self.max_blob_bytes > MAX_BLOB_BYTES as u64 {
            return bad("max_blob_bytes", "must be in 1..=131072");
        }
        if self.blob_max_bytes_per_block < self.max_blob_bytes {
            return bad("blob_max_bytes_per_block", "must fit one blob");
        }
        if self.blob_target_bytes_per_block == 0
            || self.blob_target_bytes_per_block > self.blob_max_bytes_per_block
        {
            return bad(
                "blob_target_bytes_per_block",
                "must be in 1..=blob_max_bytes_per_block",
            );
        }
        if self.blob_retention_blocks == 0 {
            return bad("blob_retention_blocks", "must be positive");
        }
        if self.epoch_length < 2 {
            return bad("epoch_length", "must be at least 2");
        }
        if self.max_validators == 0 {
            return bad("max_validators", "must be positive");
        }
        Ok(())
    }
}

/// A funded account at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisAccount {
    /// The account key.
    pub key: PublicKey,
    /// Its spendable balance.
    #[serde(with = "basalt_types::serde_amount")]
    pub balance: Amount,
}

/// A staked validator at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisValidator {
    /// The validator's account and consensus key.
    pub key: PublicKey,
    /// Its bonded stake.
    #[serde(with = "basalt_types::serde_amount")]
    pub stake: Amount,
}

/// Everything that defines a chain's first state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Chain id that every transaction must carry.
    pub chain_id: u64,
    /// Timestamp of the genesis block, in Unix milliseconds.
    pub timestamp_ms: u64,
    /// Consensus parameters.
    pub params: Params,
    /// Funded accounts.
    pub accounts: Vec<GenesisAccount>,
    /// The initial validators.
    pub validators: Vec<GenesisValidator>,
}

impl Genesis {
    /// Parses a genesis JSON document and validates it.
    pub fn from_json(text: &str) -> Result<Self, GenesisError> {
        let g: Genesis =
            serde_json::from_str(text).map_err(|e| GenesisError::Parse(e.to_string()))?;
        g.params.validate()?;
        Ok(g)
    }

    /// The genesis as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("genesis serializes")
    }
}
