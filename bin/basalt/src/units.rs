//! Token amounts as people write them: decimal tokens with up to 18 decimals.

use anyhow::{bail, Context, Result};
use basalt_l1::ONE_TOKEN;

/// Parses "1", "1.5" or "0.000000000000000001" tokens into base units.
pub fn parse_tokens(s: &str) -> Result<u128> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 18 {
        bail!("amount {s:?}: expected a decimal number of tokens with at most 18 decimals");
    }
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        bail!("amount {s:?}: expected a decimal number of tokens");
    }
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().context("amount too large")?
    };
    let frac_units: u128 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<18}").parse()?
    };
    whole
        .checked_mul(ONE_TOKEN)
        .and_then(|w| w.checked_add(frac_units))
        .context("amount too large")
}

pub use basalt_l1::format_tokens;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_amounts_parse_and_format() {
        assert_eq!(parse_tokens("1").unwrap(), ONE_TOKEN);
        assert_eq!(parse_tokens("1.5").unwrap(), ONE_TOKEN + ONE_TOKEN / 2);
        assert_eq!(parse_tokens("0.000000000000000001").unwrap(), 1);
        assert!(parse_tokens("1.0000000000000000001").is_err());
        assert!(parse_tokens("-1").is_err());
        assert!(parse_tokens("1e5").is_err());
        assert!(parse_tokens(".").is_err());
        assert!(parse_tokens("999999999999999999999999999").is_err());
        assert_eq!(format_tokens(ONE_TOKEN * 3 / 2), "1.5");
        assert_eq!(format_tokens(7 * ONE_TOKEN), "7");
    }
}
