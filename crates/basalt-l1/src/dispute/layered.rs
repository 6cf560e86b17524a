//! A claim tree read through layers: its finalized claims, then the claims the blocks not yet
//! finalized (and the block being built) appended, so a move reads what it needs without copying
//! the tree.

use super::tree::{depth_of, Claim, ClaimTree, Claims, Rules};
use basalt_types::Hash;

/// One tree's claims: the finalized tree, then each layer's appended claims, oldest first.
pub struct LayeredTree<'a> {
    rules: Rules,
    base: Option<&'a ClaimTree>,
    layers: Vec<&'a [Claim]>,
    count: u32,
}

impl<'a> LayeredTree<'a> {
    /// The tree with `rules` whose finalized claims are `base` (none for a tree opened in a layer)
    /// and whose later claims are `layers`.
    pub fn new(rules: Rules, base: Option<&'a ClaimTree>, layers: Vec<&'a [Claim]>) -> Self {
        let count =
            base.map_or(0, |t| t.count()) + layers.iter().map(|l| l.len() as u32).sum::<u32>();
        LayeredTree {
            rules,
            base,
            layers,
            count,
        }
    }

    fn appended(&self) -> impl Iterator<Item = &Claim> {
        self.layers.iter().flat_map(|l| l.iter())
    }
}

impl Claims for LayeredTree<'_> {
    fn rules(&self) -> &Rules {
        &self.rules
    }

    fn count(&self) -> u32 {
        self.count
    }

    fn get(&self, index: u32) -> Option<Claim> {
        let base = self.base.map_or(0, |t| t.count());
        if index < base {
            return self.base?.get(index);
        }
        let mut at = (index - base) as usize;
        for l in &self.layers {
            if at < l.len() {
                return Some(l[at]);
            }
            at -= l.len();
        }
        None
    }

    fn has_counter(&self, parent: u32, position: u64, value: &Hash) -> bool {
        self.base
            .is_some_and(|t| t.has_counter(parent, position, value))
            || self
                .appended()
                .any(|c| c.parent == Some(parent) && c.position == position && c.value == *value)
    }

    fn stepped(&self, leaf: u32) -> bool {
        self.base.is_some_and(|t| t.stepped(leaf))
            || self
                .appended()
                .any(|c| c.parent == Some(leaf) && depth_of(c.position) > self.rules.depth)
    }
}
