//! Who may see what: each group grants its allowed sources up to its maximum TLP.
//!
//! The store renders a [`VisibilityScope`] into one SQL predicate used by every read path;
//! this module holds the rule itself so the two can be checked against each other.

use crate::source::SourceId;
use crate::tlp::TlpColor;

/// What one group lets its members see.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// The group's own source and its allowed sources.
    pub sources: Vec<SourceId>,
    /// The most restricted colour the group may see.
    pub max_tlp: TlpColor,
}

/// The part of the store a caller can see.
#[derive(Debug, Clone, PartialEq)]
pub enum VisibilityScope {
    /// Administrators see everything.
    Everything,
    /// Everyone else sees the union of their groups' grants (nothing, with no groups).
    Grants(Vec<Grant>),
}

impl VisibilityScope {
    /// Whether an object tied to `sources` and marked `tlp` (unmarked = no colour limit) is visible:
    /// one grant must cover one of its sources at that colour.
    pub fn admits(&self, sources: &[SourceId], tlp: Option<TlpColor>) -> bool {
        match self {
            VisibilityScope::Everything => true,
            VisibilityScope::Grants(grants) => grants.iter().any(|g| {
                tlp.is_none_or(|t| t.rank() <= g.max_tlp.rank()) && sources.iter().any(|s| g.sources.contains(s))
            }),
        }
    }

    /// Every source some grant covers (for sources themselves, which carry no colour).
    /// `None` means every source.
    pub fn visible_sources(&self) -> Option<Vec<SourceId>> {
        match self {
            VisibilityScope::Everything => None,
            VisibilityScope::Grants(grants) => {
                let mut all: Vec<SourceId> = grants.iter().flat_map(|g| g.sources.iter().copied()).collect();
                all.sort();
                all.dedup();
                Some(all)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn grant(sources: &[SourceId], max_tlp: TlpColor) -> Grant {
        Grant {
            sources: sources.to_vec(),
            max_tlp,
        }
    }

    #[test]
    fn a_source_outside_every_grant_is_hidden() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let scope = VisibilityScope::Grants(vec![grant(&[a], TlpColor::Red)]);
        assert!(scope.admits(&[a], None));
        assert!(!scope.admits(&[b], None));
        assert!(scope.admits(&[b, a], Some(TlpColor::Green)));
    }

    #[test]
    fn colour_above_the_groups_maximum_is_hidden() {
        let a = Uuid::new_v4();
        let scope = VisibilityScope::Grants(vec![grant(&[a], TlpColor::Amber)]);
        assert!(scope.admits(&[a], Some(TlpColor::Amber)));
        assert!(!scope.admits(&[a], Some(TlpColor::AmberStrict)));
        assert!(!scope.admits(&[a], Some(TlpColor::Red)));
    }

    #[test]
    fn grants_do_not_mix_sources_and_colours() {
        // Group 1 sees source a up to GREEN, group 2 sees source b up to RED:
        // a RED object from source a stays hidden.
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let scope = VisibilityScope::Grants(vec![grant(&[a], TlpColor::Green), grant(&[b], TlpColor::Red)]);
        assert!(!scope.admits(&[a], Some(TlpColor::Red)));
        assert!(scope.admits(&[b], Some(TlpColor::Red)));
    }

    #[test]
    fn no_groups_means_nothing_and_admins_see_everything() {
        let a = Uuid::new_v4();
        assert!(!VisibilityScope::Grants(vec![]).admits(&[a], None));
        assert!(VisibilityScope::Everything.admits(&[a], Some(TlpColor::Red)));
        assert_eq!(VisibilityScope::Everything.visible_sources(), None);
    }
}
