//! Names of the actors in a world, printed and parsed as `C0`, `S`, `R`.

use std::fmt;
use std::str::FromStr;

/// One actor of a lock world. Clients are numbered from 0; there is one ZooKeeper server and, in
/// fenced worlds, one shared resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ActorId {
    /// A lock client, `C<n>`.
    Client(u8),
    /// The ZooKeeper server, `S`.
    Server,
    /// The fenced resource, `R`.
    Resource,
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorId::Client(c) => write!(f, "C{c}"),
            ActorId::Server => f.write_str("S"),
            ActorId::Resource => f.write_str("R"),
        }
    }
}

impl FromStr for ActorId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "S" => Ok(ActorId::Server),
            "R" => Ok(ActorId::Resource),
            _ => text
                .strip_prefix('C')
                .and_then(|n| n.parse::<u8>().ok())
                .map(ActorId::Client)
                .ok_or_else(|| format!("expected an actor name (C<n>, S or R), found {text:?}")),
        }
    }
}

/// Serde through `Display`/`FromStr`, so actors read as `"C1"` in trace files.
macro_rules! serde_via_string {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use serde_via_string;

serde_via_string!(ActorId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for actor in [
            ActorId::Client(0),
            ActorId::Client(7),
            ActorId::Server,
            ActorId::Resource,
        ] {
            assert_eq!(actor.to_string().parse::<ActorId>(), Ok(actor));
        }
        assert!("X1".parse::<ActorId>().is_err());
        assert!("C".parse::<ActorId>().is_err());
        assert!("C300".parse::<ActorId>().is_err());
    }
}
