//! Crafted ed25519 inputs for tests of the signature rule (feature `testing`; never in a node).
//!
//! Signatures whose verdict differs between verification formulas are how a leader could make
//! validators disagree about one block. These helpers make them on purpose:
//! - [`SMALL_ORDER_ENCODINGS`]: the 14 encodings (8 canonical, 6 not) of the points of order
//!   dividing 8, from which the ZIP-215 test set builds its 196 `(A, R, s = 0)` signatures;
//! - [`SPECCHECK_VECTORS`]: the edge cases of "Taming the many EdDSAs" (Chalkias, Garillot,
//!   Nikolaenko 2020), as published with ed25519-speccheck;
//! - [`TorsionSigner`]: a key with a torsion component that signs so that the cofactored rule
//!   accepts and a cofactorless check rejects, the pair of verdicts a batch of the old rule mixed.

use crate::{PublicKey, Signature};
use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::{EdwardsPoint, Scalar};
use sha2::{Digest, Sha512};

/// The encodings of the small-order points that decode: canonical first, then the non-canonical
/// ones (`y` at or above the field prime, or `x = 0` with its sign bit set).
pub const SMALL_ORDER_ENCODINGS: [&str; 14] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// `(message, public key, signature)` in hex: the ed25519-speccheck edge cases.
pub const SPECCHECK_VECTORS: [(&str, &str, &str); 10] = [
    ("8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000"),
    ("9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04"),
    ("aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab", "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e"),
    ("9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79", "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d", "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009"),
    ("e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c", "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d", "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09"),
    ("e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c", "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d", "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405"),
    ("85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40", "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623", "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514"),
    ("85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40", "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623", "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22"),
    ("fdaebc429f4a735932a160da1301080c13280eea8bc280d1b392c6b9e6ba3a5a", "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f454d370c8d9fc323a41450f8d513eafeb5b0697390c1e505a0d4ddc71f566607"),
    ("84b698d39be126ff55fe45079e6c8bf64a0d7db6994560b4e96b7021eb39c1a1", "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f084d5b99c2a9463d9c8bd5026916996984eeec87ddf1d3be329006ace1b37b09"),
];

/// Decodes 32 bytes of hex (test data only: panics on bad input).
pub fn bytes32(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

/// Decodes 64 bytes of hex (test data only: panics on bad input).
pub fn bytes64(hex_str: &str) -> [u8; 64] {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("64 bytes")
}

/// A signer whose public key is `a·B + T` for a point `T` of order 2: it can sign, but every
/// signature it makes satisfies only the cofactored equation `8·s·B = 8·R + 8·k·A`.
#[derive(Clone)]
pub struct TorsionSigner {
    secret: Scalar,
    public: EdwardsPoint,
    nonce_seed: [u8; 32],
}

impl TorsionSigner {
    /// The signer derived from `seed`.
    pub fn new(seed: &[u8]) -> Self {
        let wide: [u8; 64] =
            Sha512::digest([b"basalt/torsion-signer".as_slice(), seed].concat()).into();
        let secret = Scalar::from_bytes_mod_order_wide(&wide);
        TorsionSigner {
            secret,
            public: EdwardsPoint::mul_base(&secret) + EIGHT_TORSION[4],
            nonce_seed: wide[32..].try_into().expect("32 bytes"),
        }
    }

    /// The public key (with its torsion component).
    pub fn public(&self) -> PublicKey {
        PublicKey(self.public.compress().to_bytes())
    }

    /// Signs `msg` so that `k = H(R || A || msg)` is odd: the cofactorless equation then misses by
    /// the order-2 point `k·T`, while the cofactored one holds.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        let a_bytes = self.public.compress().to_bytes();
        for counter in 0u64.. {
            let r_wide: [u8; 64] =
                Sha512::digest([&self.nonce_seed[..], &counter.to_le_bytes(), msg].concat()).into();
            let r = Scalar::from_bytes_mod_order_wide(&r_wide);
            let big_r = (ED25519_BASEPOINT_POINT * r).compress().to_bytes();
            let k_wide: [u8; 64] = Sha512::digest([&big_r[..], &a_bytes[..], msg].concat()).into();
            let k = Scalar::from_bytes_mod_order_wide(&k_wide);
            if k.as_bytes()[0] & 1 == 0 {
                continue;
            }
            let s = r + k * self.secret;
            let mut sig = [0u8; 64];
            sig[..32].copy_from_slice(&big_r);
            sig[32..].copy_from_slice(s.as_bytes());
            return Signature(sig);
        }
        unreachable!("half of all nonces give an odd challenge")
    }
}
