//! Bytes as `0x` hex in JSON.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Bytes that travel as `0x`-prefixed hex.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl HexBytes {
    /// The `0x` hex of the bytes.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(&self.0))
    }
}

impl From<Vec<u8>> for HexBytes {
    fn from(v: Vec<u8>) -> Self {
        HexBytes(v)
    }
}

impl Serialize for HexBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        basalt_types::codec::parse_hex(&s)
            .map(HexBytes)
            .map_err(|_| serde::de::Error::custom("bytes must be hex (0x followed by hex digits)"))
    }
}
