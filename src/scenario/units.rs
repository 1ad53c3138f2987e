//! Durations and sizes as people write them, in scenario files and on the command line:
//! `time_limit = 90`, `"90s"`, `"5m"`, `0.5`; `max_memory = "8GiB"`. Parsing is humantime's and
//! bytesize's; this module only says which forms a key takes and writes values back in a form
//! that reads the same (whole seconds and plain bytes as integers, as files always had them).

use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// A duration: a number of seconds (fractions allowed) or a humantime duration (`90s`, `5m`,
/// `1h 30m`, `500ms`). Negative, not-a-number and too-large values are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let expected = || {
        format!("expected seconds (90, 0.5) or a duration with a unit (90s, 5m, 1h 30m); found {text:?}")
    };
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|_| expected());
    }
    humantime::parse_duration(text).map_err(|_| expected())
}

/// A size in bytes: a plain number of bytes or a number with a unit (`512MiB`, `8G`, `1.5 GB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(bytes) = text.parse::<u64>() {
        return Ok(bytes);
    }
    text.parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|_| {
            format!(
                "expected a size such as 512MiB, 8GiB or 8G (bytes without a unit); found {text:?}"
            )
        })
}

/// Serde for a `time_limit`: whole seconds as an integer (a string of digits above TOML's
/// largest integer), anything finer as a humantime string (`"500ms"`).
pub mod duration {
    use super::*;

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        if value.subsec_nanos() == 0 {
            super::super::wide::serialize(&value.as_secs(), serializer)
        } else {
            serializer.serialize_str(&humantime::format_duration(*value).to_string())
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }

    struct DurationVisitor;

    impl Visitor<'_> for DurationVisitor {
        type Value = Duration;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("seconds (90, 0.5) or a duration with a unit (\"90s\", \"5m\")")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Duration, E> {
            u64::try_from(value)
                .map(Duration::from_secs)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Duration, E> {
            Ok(Duration::from_secs(value))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Duration, E> {
            Duration::try_from_secs_f64(value)
                .map_err(|_| E::invalid_value(de::Unexpected::Float(value), &self))
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
            parse_duration(text).map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
        }
    }
}

/// Serde for a `max_memory`: bytes as an integer (a string of digits above TOML's largest
/// integer); read also from a size with a unit (`"8GiB"`).
pub mod size {
    use super::*;

    pub fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        super::super::wide::serialize(value, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(SizeVisitor)
    }

    struct SizeVisitor;

    impl Visitor<'_> for SizeVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bytes, or a size with a unit (\"512MiB\", \"8GiB\")")
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
            u64::try_from(value).map_err(|_| E::invalid_value(de::Unexpected::Signed(value), &self))
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
            Ok(value)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
            parse_size(text).map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
        }
    }
}

/// A duration read as [`duration`] reads it, for the raw scenario's optional fields.
pub struct DurationValue(pub Duration);

impl<'de> serde::Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        duration::deserialize(deserializer).map(DurationValue)
    }
}

/// A size read as [`size`] reads it, for the raw scenario's optional fields.
pub struct SizeValue(pub u64);

impl<'de> serde::Deserialize<'de> for SizeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        size::deserialize(deserializer).map(SizeValue)
    }
}

/// How [`duration`] writes a duration, for messages and printed commands.
pub fn duration_text(value: Duration) -> String {
    if value.subsec_nanos() == 0 {
        value.as_secs().to_string()
    } else {
        humantime::format_duration(value).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_fractions_and_units() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(
            parse_duration(&u64::MAX.to_string()),
            Ok(Duration::from_secs(u64::MAX))
        );
        for bad in ["-1", "soon", "", "NaN", "1e300"] {
            assert!(
                parse_duration(bad)
                    .unwrap_err()
                    .contains("expected seconds"),
                "{bad}"
            );
        }
    }

    #[test]
    fn sizes_take_bytes_and_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("8GiB"), Ok(8 << 30));
        assert!(parse_size("lots").unwrap_err().contains("expected a size"));
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Holder {
        #[serde(with = "duration")]
        time_limit: Duration,
    }

    #[test]
    fn durations_round_trip_through_toml() {
        for value in [
            Duration::ZERO,
            Duration::from_secs(90),
            Duration::from_millis(500),
            Duration::from_secs(u64::MAX),
        ] {
            let text = toml::to_string(&Holder { time_limit: value }).unwrap();
            assert_eq!(
                toml::from_str::<Holder>(&text).unwrap().time_limit,
                value,
                "{text}"
            );
        }
        assert_eq!(
            toml::to_string(&Holder {
                time_limit: Duration::from_secs(90)
            })
            .unwrap(),
            "time_limit = 90\n",
            "whole seconds stay an integer, as files always had them"
        );
    }
}
