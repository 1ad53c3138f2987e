//! Server names in `[faults]`: `partition_sides` (zab, or a lock over an ensemble), the one split
//! a partition may make, named by its two groups of servers, `[["S0", "S1"], ["S2", "S3", "S4"]]`;
//! and `crashable` (a lock over an ensemble), the servers that may crash, `["S2"]`. Scenario files
//! and the scenarios embedded in traces write them the same way, so a trace replays in the world
//! it was found in.

use std::fmt;

use lockscope_models::zab::types::{bit, members, set_name, ServerSet, Sid, MAX_SERVERS};

/// The two sides of the named split, one bit per server. Holds any two groups of valid server
/// names; whether they split *this* ensemble (disjoint, non-empty, every server on one side) is
/// `ZabConfig::check_partition_sides`'s to say, which knows the number of servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "Vec<Vec<String>>", try_from = "Vec<Vec<String>>")]
pub struct PartitionSides(pub [ServerSet; 2]);

impl TryFrom<Vec<Vec<String>>> for PartitionSides {
    type Error = String;

    fn try_from(groups: Vec<Vec<String>>) -> Result<Self, String> {
        let expected = "expected two groups of server names, as [[\"S0\", \"S1\"], [\"S2\"]]";
        let [first, second] = <[Vec<String>; 2]>::try_from(groups).map_err(|groups| {
            format!(
                "faults.partition_sides: {expected}; found {} group(s)",
                groups.len()
            )
        })?;
        let mut sides = [0; 2];
        for (side, group) in sides.iter_mut().zip([first, second]) {
            for name in group {
                let server = server_id(&name).ok_or_else(|| {
                    format!(
                        "faults.partition_sides: {expected}, each S0 to S{}; found {name:?}",
                        MAX_SERVERS - 1
                    )
                })?;
                if *side & bit(server) != 0 {
                    return Err(format!(
                        "faults.partition_sides: {name} is listed twice in one group"
                    ));
                }
                *side |= bit(server);
            }
        }
        Ok(PartitionSides(sides))
    }
}

impl From<PartitionSides> for Vec<Vec<String>> {
    fn from(sides: PartitionSides) -> Self {
        sides
            .0
            .iter()
            .map(|&side| members(side).map(server_name).collect())
            .collect()
    }
}

/// `{S0, S1} | {S2, S3, S4}`, as `lockscope list` prints it.
impl fmt::Display for PartitionSides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b] = self.0;
        write!(f, "{{{}}} | {{{}}}", set_name(a), set_name(b))
    }
}

/// `[faults] crashable`: the only servers that may crash, one bit per server. Holds any valid
/// server names; whether they are in *this* ensemble is validation's to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "Vec<String>", try_from = "Vec<String>")]
pub struct Crashable(pub ServerSet);

impl TryFrom<Vec<String>> for Crashable {
    type Error = String;

    fn try_from(names: Vec<String>) -> Result<Self, String> {
        let mut set = 0;
        for name in names {
            let server = server_id(&name).ok_or_else(|| {
                format!(
                    "faults.crashable: expected server names, each S0 to S{}; found {name:?}",
                    MAX_SERVERS - 1
                )
            })?;
            if set & bit(server) != 0 {
                return Err(format!("faults.crashable: {name} is listed twice"));
            }
            set |= bit(server);
        }
        Ok(Crashable(set))
    }
}

impl From<Crashable> for Vec<String> {
    fn from(crashable: Crashable) -> Self {
        members(crashable.0).map(server_name).collect()
    }
}

/// `S0` → 0, ..., up to the largest ensemble the model supports.
pub(super) fn server_id(name: &str) -> Option<u8> {
    let id: u8 = name.strip_prefix('S')?.parse().ok()?;
    (usize::from(id) < MAX_SERVERS && name == format!("S{id}")).then_some(id)
}

/// 0 → `S0`.
pub(super) fn server_name(server: Sid) -> String {
    format!("S{server}")
}
