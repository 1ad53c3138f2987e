//! `[check]` integers over the whole `u64` range, although TOML cannot hold them.
//!
//! TOML integers are 64-bit *signed*, so a seed, bound or run count above `i64::MAX` (2^63 − 1)
//! has no TOML integer. The command line takes any `u64` (CI jobs draw random 64-bit seeds, half
//! of them that large), and a scenario — with the command line's overrides — is embedded in every
//! trace and in every HTML report as TOML-compatible data. So such a number is written as a
//! decimal string (`seed = "18446744073709551615"`), and read back from one; numbers that fit stay
//! integers, so every file written before reads and writes as it did.

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// Serialise `value` as an integer when TOML can hold it, as a decimal string otherwise.
pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    match i64::try_from(*value) {
        Ok(small) => serializer.serialize_i64(small),
        Err(_) => serializer.serialize_str(&value.to_string()),
    }
}

/// Read a non-negative integer, or a decimal string of one up to `u64::MAX`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(WideVisitor)
}

/// A `u64` read as [`deserialize`] reads it, for the raw scenario's optional fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wide(pub u64);

impl<'de> serde::Deserialize<'de> for Wide {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Wide)
    }
}

struct WideVisitor;

impl Visitor<'_> for WideVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "an integer from 0 to {} (above {}, a decimal string such as \"{}\")",
            u64::MAX,
            i64::MAX,
            u64::MAX
        )
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
        u64::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        Ok(value)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
        // Only plain decimal digits: `parse` alone would also take a leading '+'.
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(E::invalid_value(de::Unexpected::Str(text), &self));
        }
        text.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        value: u64,
    }

    proptest! {
        /// Every u64 survives TOML and JSON, the two forms a scenario is written in.
        #[test]
        fn every_u64_round_trips_through_toml_and_json(value in any::<u64>()) {
            let holder = Holder { value };
            let toml_text = toml::to_string(&holder).expect("TOML holds every value");
            prop_assert_eq!(toml::from_str::<Holder>(&toml_text).expect("reads back"), Holder { value });
            let json_text = serde_json::to_string(&holder).expect("JSON");
            prop_assert_eq!(serde_json::from_str::<Holder>(&json_text).expect("reads back"), Holder { value });
        }
    }

    #[test]
    fn small_numbers_stay_integers_and_bad_strings_are_refused() {
        assert_eq!(
            toml::to_string(&Holder { value: 7 }).unwrap(),
            "value = 7\n"
        );
        assert_eq!(
            toml::to_string(&Holder { value: u64::MAX }).unwrap(),
            "value = \"18446744073709551615\"\n"
        );
        for bad in [
            "value = -1",
            "value = \"+5\"",
            "value = \"\"",
            "value = \"18446744073709551616\"",
        ] {
            let err = toml::from_str::<Holder>(bad).unwrap_err().to_string();
            assert!(
                err.contains("an integer from 0 to 18446744073709551615"),
                "{bad}: {err}"
            );
        }
    }
}
