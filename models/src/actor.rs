//! Names of the actors in a world, printed and parsed as `C0`, `S`, `S0`, `R`.

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
    /// One server of an ensemble, `S<sid>` (a lock world with `servers > 1`).
    Replica(u8),
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActorId::Client(c) => write!(f, "C{c}"),
            ActorId::Server => f.write_str("S"),
            ActorId::Resource => f.write_str("R"),
            ActorId::Replica(s) => write!(f, "S{s}"),
        }
    }
}

impl FromStr for ActorId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "S" => Ok(ActorId::Server),
            "R" => Ok(ActorId::Resource),
            _ => {
                let numbered = |prefix: char| text.strip_prefix(prefix)?.parse::<u8>().ok();
                numbered('C')
                    .map(ActorId::Client)
                    .or_else(|| numbered('S').filter(|&s| s < 10).map(ActorId::Replica))
                    .ok_or_else(|| {
                        format!("expected an actor name (C<n>, S, S<n> or R), found {text:?}")
                    })
            }
        }
    }
}

/// Serde through `Display`/`FromStr` for people (trace files: actors read as `"C1"`), and through
/// a small integer for machines (`Compact`: the search's packed states).
macro_rules! serde_via_string {
    ($type:ty) => {
        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                if serializer.is_human_readable() {
                    serializer.collect_str(self)
                } else {
                    serde::Serialize::serialize(
                        &$crate::actor::Compact::to_compact(self),
                        serializer,
                    )
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                if deserializer.is_human_readable() {
                    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                    text.parse().map_err(serde::de::Error::custom)
                } else {
                    let compact = serde::Deserialize::deserialize(deserializer)?;
                    $crate::actor::Compact::from_compact(compact).map_err(serde::de::Error::custom)
                }
            }
        }
    };
}

/// A value's binary form: a small integer.
pub(crate) trait Compact: Sized {
    type Repr: serde::Serialize + for<'de> serde::Deserialize<'de>;
    fn to_compact(&self) -> Self::Repr;
    fn from_compact(repr: Self::Repr) -> Result<Self, String>;
}

impl Compact for ActorId {
    type Repr = u8;
    fn to_compact(&self) -> u8 {
        match self {
            ActorId::Client(c) => *c,
            ActorId::Server => 254,
            ActorId::Resource => 255,
            ActorId::Replica(s) => 240 + s,
        }
    }
    fn from_compact(repr: u8) -> Result<Self, String> {
        Ok(match repr {
            254 => ActorId::Server,
            240..=249 => ActorId::Replica(repr - 240),
            255 => ActorId::Resource,
            c => ActorId::Client(c),
        })
    }
}

impl Compact for Group {
    type Repr = u16;
    fn to_compact(&self) -> u16 {
        self.0
    }
    fn from_compact(repr: u16) -> Result<Self, String> {
        Ok(Group(repr))
    }
}

pub(crate) use serde_via_string;

serde_via_string!(ActorId);

/// A set of actors: one side of a network partition. Printed and parsed as the members' names
/// joined by `+` (`C0+R`), so partitions read naturally in trace files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Group(u16);

impl Group {
    const SERVER_BIT: u32 = 8;
    const RESOURCE_BIT: u32 = 9;

    fn bit(actor: ActorId) -> u16 {
        match actor {
            ActorId::Client(c) => {
                assert!(c < 8, "at most 8 clients");
                1 << c
            }
            // A client partition cuts clients off the whole service (docs/design/ensemble.md, §3.5).
            ActorId::Server | ActorId::Replica(_) => 1 << Self::SERVER_BIT,
            ActorId::Resource => 1 << Self::RESOURCE_BIT,
        }
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, actor: ActorId) -> bool {
        self.0 & Self::bit(actor) != 0
    }

    pub fn with(self, actor: ActorId) -> Group {
        Group(self.0 | Self::bit(actor))
    }

    /// The members in a fixed order: clients by number, then the server, then the resource.
    pub fn members(self) -> impl Iterator<Item = ActorId> {
        (0..8)
            .map(ActorId::Client)
            .chain([ActorId::Server, ActorId::Resource])
            .filter(move |&actor| self.contains(actor))
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.members().map(|a| a.to_string()).collect();
        f.write_str(&names.join("+"))
    }
}

impl FromStr for Group {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut group = Group::default();
        for name in text.split('+') {
            let actor: ActorId = name.parse()?;
            if matches!(actor, ActorId::Client(c) if c >= 8) {
                return Err(format!("expected at most 8 clients, found {name}"));
            }
            group = group.with(actor);
        }
        Ok(group)
    }
}

serde_via_string!(Group);

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
            ActorId::Replica(0),
            ActorId::Replica(4),
        ] {
            assert_eq!(actor.to_string().parse::<ActorId>(), Ok(actor));
            assert_eq!(ActorId::from_compact(actor.to_compact()), Ok(actor));
        }
        assert!("X1".parse::<ActorId>().is_err());
        assert!("C".parse::<ActorId>().is_err());
        assert!("C300".parse::<ActorId>().is_err());
    }

    #[test]
    fn groups_round_trip_and_reject_bad_members() {
        let group = Group::default()
            .with(ActorId::Resource)
            .with(ActorId::Client(2))
            .with(ActorId::Client(0));
        assert_eq!(group.to_string(), "C0+C2+R");
        assert_eq!("C0+C2+R".parse::<Group>(), Ok(group));
        assert!("C0+C9".parse::<Group>().is_err());
        assert!("".parse::<Group>().is_err());
        assert!(!group.contains(ActorId::Server));
    }
}
