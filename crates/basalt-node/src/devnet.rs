//! Devnet defaults: deterministic validator keys, funded dev accounts and a genesis to match.
//!
//! DEVNET ONLY: every secret here is derived from a public string, so anyone can spend these
//! accounts and sign as these validators. Never use them on a network that holds value.

use basalt_l1::{Genesis, GenesisAccount, GenesisValidator, Params, ONE_TOKEN};
use basalt_types::{dev_keypair, Keypair};
use commonware_codec::DecodeExt;
use commonware_cryptography::ed25519::PrivateKey;
use commonware_cryptography::Signer as _;

/// Chain id of the devnet.
pub const DEVNET_CHAIN_ID: u64 = 31337;
/// Number of funded dev accounts.
pub const DEV_ACCOUNTS: u64 = 10;
/// Balance of each dev account.
pub const DEV_BALANCE: u128 = 1_000_000 * ONE_TOKEN;

/// Dev validator `i` (DEVNET ONLY).
pub fn validator_keypair(i: u64) -> Keypair {
    dev_keypair("basalt-devnet-validator", i)
}

/// Dev account `i` (DEVNET ONLY).
pub fn dev_account(i: u64) -> Keypair {
    dev_keypair("basalt-devnet-account", i)
}

/// A signed transfer of one token from dev account `from` to dev account `to`, at `nonce`, with
/// a fee cap far above the devnet's base fee (DEVNET ONLY keys).
pub fn dev_transfer(from: u64, nonce: u64, to: u64) -> Vec<u8> {
    use basalt_types::Encode as _;
    basalt_l1::Transaction {
        chain_id: DEVNET_CHAIN_ID,
        nonce,
        max_fee_per_gas: 10_000_000_000,
        priority_fee_per_gas: 1,
        gas_limit: basalt_l1::TRANSFER_GAS,
        action: basalt_l1::Action::Transfer {
            to: dev_account(to).public(),
            amount: ONE_TOKEN,
        },
    }
    .sign(&dev_account(from))
    .to_bytes()
}

/// Number of funded devnet rollup sequencer accounts (`basalt up` runs one rollup on each).
pub const DEV_SEQUENCERS: u64 = 3;

/// The L1 key of devnet rollup sequencer `i` (DEVNET ONLY): it registers its rollup and pays for
/// its batches and outputs.
pub fn dev_sequencer(i: u64) -> Keypair {
    dev_keypair("basalt-devnet-sequencer", i)
}

/// Devnet parameters: the given block time and epoch length, and a committee with one seat per
/// validator, so a staker joins it only by outbidding a validator.
pub fn devnet_params(validators: u64, block_time_ms: u64, epoch_length: u64) -> Params {
    Params {
        block_time_ms,
        epoch_length,
        max_validators: u32::try_from(validators).unwrap_or(u32::MAX),
        ..Params::default()
    }
}

/// A devnet genesis with `validators` staked validators, the funded dev accounts and the funded
/// rollup sequencer accounts.
pub fn devnet_genesis(validators: u64, params: Params, timestamp_ms: u64) -> Genesis {
    Genesis {
        chain_id: DEVNET_CHAIN_ID,
        timestamp_ms,
        accounts: (0..DEV_ACCOUNTS)
            .map(dev_account)
            .chain((0..DEV_SEQUENCERS).map(dev_sequencer))
            .map(|k| GenesisAccount {
                key: k.public(),
                balance: DEV_BALANCE,
            })
            .collect(),
        validators: (0..validators)
            .map(|i| GenesisValidator {
                key: validator_keypair(i).public(),
                stake: params.min_stake * 10,
            })
            .collect(),
        params,
    }
}

/// The consensus signing key of an account keypair (validators sign votes with their account key).
pub fn consensus_key(kp: &Keypair) -> PrivateKey {
    let key = PrivateKey::decode(kp.secret().to_vec()).expect("32-byte ed25519 secret");
    debug_assert_eq!(key.public_key().as_ref(), kp.public().0.as_slice());
    key
}

/// The consensus public key of an account key, if the bytes are a valid ed25519 point.
pub fn consensus_public_key(
    key: &basalt_types::PublicKey,
) -> Result<commonware_cryptography::ed25519::PublicKey, commonware_codec::Error> {
    commonware_cryptography::ed25519::PublicKey::decode(key.0.to_vec())
}
