//! `[faults] partition_sides` (zab only): the one split a partition may make, named by its two
//! groups of servers, `[["S0", "S1"], ["S2", "S3", "S4"]]`. Scenario files and the scenarios
//! embedded in traces write it the same way, so a trace replays in the split it was found in.

use std::fmt;

use lockscope_models::zab::types::{bit, members, set_name, ServerSet, MAX_SERVERS};

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
            .map(|&side| members(side).map(|s| format!("S{s}")).collect())
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

/// `S0` → 0, ..., up to the largest ensemble the model supports.
fn server_id(name: &str) -> Option<u8> {
    let id: u8 = name.strip_prefix('S')?.parse().ok()?;
    (usize::from(id) < MAX_SERVERS && name == format!("S{id}")).then_some(id)
}
