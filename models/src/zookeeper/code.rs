//! Which code the servers of an ensemble run (`[model] zookeeper` of a lock over an ensemble):
//! ZAB's versions as the zab kind names them (synchronisation flaws such as zk-2355 among them),
//! or the fixed code with one flaw of the servers' session handling that breaks a lock.

use crate::zab::ZabVariant;

/// The servers' code. A recipe's flaws stay the recipe's `variant`; this is the other side of the
/// connection. The two families are kept apart because ZAB's flaws live in the replication
/// protocol (`zab::Flaw`) and the others in what a server does around it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum ServerCode {
    /// A version of ZAB, `fixed` included: the fixed code throughout.
    Zab(ZabVariant),
    /// The fixed ZAB code with one server-side flaw.
    Server(ServerFlaw),
}

/// A flaw of a ZooKeeper server outside ZAB's own steps, named after the JIRA issue whose fix
/// removed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServerFlaw {
    /// ZOOKEEPER-1208 (and -1496): the leader's preparation does not refuse a create of a session
    /// whose closeSession it has already prepared, so the create commits after the close and its
    /// ephemeral node outlives the session.
    Zk1208,
    /// ZOOKEEPER-1367: session transactions a follower applies while synchronising with its
    /// leader (`Learner.syncWithLeader`) bypass its session tracker; once it leads, it never
    /// expires those sessions.
    Zk1367,
    /// The leader does not check which server owns a session, so a request forwarded by a server
    /// the session has moved away from is still carried out (the fixed code answers
    /// `SessionMoved`). Named after ZOOKEEPER-710 and -2886, the SessionMoved issues, which fixed
    /// what a server does with that answer; the check itself came with ZOOKEEPER-417.
    Zk710,
}

impl ServerFlaw {
    pub const ALL: [ServerFlaw; 3] = [ServerFlaw::Zk1208, ServerFlaw::Zk1367, ServerFlaw::Zk710];

    pub fn name(self) -> &'static str {
        match self {
            ServerFlaw::Zk1208 => "zk-1208",
            ServerFlaw::Zk1367 => "zk-1367",
            ServerFlaw::Zk710 => "zk-710",
        }
    }
}

impl ServerCode {
    /// Every code a scenario may name: the fixed code, the server flaws, then ZAB's flawed
    /// versions, in the order error messages list them.
    pub fn all() -> impl Iterator<Item = ServerCode> {
        let flawed_zab = ZabVariant::ALL
            .into_iter()
            .filter(|v| *v != ZabVariant::Fixed);
        std::iter::once(ServerCode::Zab(ZabVariant::Fixed))
            .chain(ServerFlaw::ALL.into_iter().map(ServerCode::Server))
            .chain(flawed_zab.map(ServerCode::Zab))
    }

    pub fn name(self) -> &'static str {
        match self {
            ServerCode::Zab(variant) => variant.name(),
            ServerCode::Server(flaw) => flaw.name(),
        }
    }

    /// The code named `name`, as scenario files spell it.
    pub fn named(name: &str) -> Option<ServerCode> {
        ServerCode::all().find(|code| code.name() == name)
    }
}

impl Default for ServerCode {
    fn default() -> Self {
        ServerCode::Zab(ZabVariant::Fixed)
    }
}

impl From<ServerCode> for String {
    fn from(code: ServerCode) -> Self {
        code.name().to_string()
    }
}

impl TryFrom<String> for ServerCode {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        ServerCode::named(&name).ok_or_else(|| format!("model.zookeeper: unknown {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_name_that_names_it_back() {
        let names: Vec<&str> = ServerCode::all().map(ServerCode::name).collect();
        assert_eq!(
            names.len(),
            1 + ServerFlaw::ALL.len() + ZabVariant::ALL.len() - 1
        );
        for code in ServerCode::all() {
            assert_eq!(ServerCode::named(code.name()), Some(code));
        }
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names[..4], ["fixed", "zk-1208", "zk-1367", "zk-710"]);
        assert_eq!(ServerCode::default().name(), "fixed");
    }
}
