//! Traffic Light Protocol colours (TLP 2.0, with the 1.0 WHITE kept as a synonym of CLEAR).

use std::fmt;
use std::str::FromStr;

/// How widely a piece of intelligence may be shared. Ordered from most to least shareable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlpColor {
    Clear,
    White,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl TlpColor {
    /// Every colour, in wire form, for error messages and documentation.
    pub const NAMES: [&'static str; 6] = ["CLEAR", "WHITE", "GREEN", "AMBER", "AMBER+STRICT", "RED"];

    /// Position on the sharing scale: a group whose maximum is `m` sees colours with `rank <= m.rank()`.
    /// CLEAR and WHITE mean the same.
    pub fn rank(self) -> i64 {
        match self {
            TlpColor::Clear | TlpColor::White => 0,
            TlpColor::Green => 1,
            TlpColor::Amber => 2,
            TlpColor::AmberStrict => 3,
            TlpColor::Red => 4,
        }
    }

    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            TlpColor::Clear => "CLEAR",
            TlpColor::White => "WHITE",
            TlpColor::Green => "GREEN",
            TlpColor::Amber => "AMBER",
            TlpColor::AmberStrict => "AMBER+STRICT",
            TlpColor::Red => "RED",
        }
    }
}

/// A TLP colour name that is not one of [`TlpColor::NAMES`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("'{0}' is not a TLP colour (expected one of CLEAR, WHITE, GREEN, AMBER, AMBER+STRICT, RED)")]
pub struct BadTlpColor(pub String);

impl FromStr for TlpColor {
    type Err = BadTlpColor;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "CLEAR" => TlpColor::Clear,
            "WHITE" => TlpColor::White,
            "GREEN" => TlpColor::Green,
            "AMBER" => TlpColor::Amber,
            "AMBER+STRICT" => TlpColor::AmberStrict,
            "RED" => TlpColor::Red,
            other => return Err(BadTlpColor(other.to_owned())),
        })
    }
}

impl fmt::Display for TlpColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_round_trips() {
        for name in TlpColor::NAMES {
            assert_eq!(name.parse::<TlpColor>().unwrap().as_str(), name);
        }
    }

    #[test]
    fn clear_and_white_share_a_rank_and_red_is_the_most_restricted() {
        assert_eq!(TlpColor::Clear.rank(), TlpColor::White.rank());
        assert!(TlpColor::AmberStrict.rank() > TlpColor::Amber.rank());
        assert!(TlpColor::Red.rank() > TlpColor::AmberStrict.rank());
    }

    #[test]
    fn lowercase_is_not_a_colour() {
        assert!("amber".parse::<TlpColor>().is_err());
    }
}
