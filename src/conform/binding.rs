//! Real values bound to the model's by order: the model numbers lock nodes and transactions from
//! 0, the server from wherever its counters stand. A real value meets its model value the first
//! time both appear in the same place; from then on each stands for the other, and the binding
//! must keep order (a later real name is a later model name), or reality has diverged.

use std::collections::BTreeMap;
use std::fmt::Display;

#[derive(Clone, Debug)]
pub struct Binding<R, M> {
    what: &'static str,
    pairs: BTreeMap<R, M>,
}

impl<R: Ord + Copy + Display, M: Ord + Copy + Display> Binding<R, M> {
    pub fn new(what: &'static str) -> Self {
        Binding {
            what,
            pairs: BTreeMap::new(),
        }
    }

    /// Bind `real` to `model`, or check that they are already bound to each other; the error
    /// says what the binding held instead.
    pub fn unify(&mut self, real: R, model: M) -> Result<(), String> {
        if let Some(&bound) = self.pairs.get(&real) {
            return if bound == model {
                Ok(())
            } else {
                Err(format!(
                    "real {} {real} stands for model {bound}, not {model}",
                    self.what
                ))
            };
        }
        if let Some((&other, _)) = self.pairs.iter().find(|(_, &m)| m == model) {
            return Err(format!(
                "model {} {model} stands for real {other}, not {real}",
                self.what
            ));
        }
        let below = self.pairs.range(..real).next_back().map(|(_, &m)| m);
        let above = self.pairs.range(real..).next().map(|(_, &m)| m);
        if below.is_some_and(|m| m > model) || above.is_some_and(|m| m < model) {
            return Err(format!(
                "real {} {real} and model {model} are out of order with the names seen before",
                self.what
            ));
        }
        self.pairs.insert(real, model);
        Ok(())
    }

    /// Give the model side new values (`None`: the model no longer has it; the pair goes).
    pub fn rename(&mut self, mut new: impl FnMut(M) -> Option<M>) {
        self.pairs = std::mem::take(&mut self.pairs)
            .into_iter()
            .filter_map(|(real, model)| new(model).map(|model| (real, model)))
            .collect();
    }

    /// The real value bound to `model`.
    pub fn real_of(&self, model: M) -> Option<R> {
        self.pairs
            .iter()
            .find(|(_, &m)| m == model)
            .map(|(&r, _)| r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binding_is_one_to_one_and_keeps_order() {
        let mut binding: Binding<i64, u16> = Binding::new("zxid");
        assert!(binding.unify(0x10, 1).is_ok());
        assert!(binding.unify(0x10, 1).is_ok());
        assert!(
            binding.unify(0x10, 2).is_err(),
            "one real value, two model values"
        );
        assert!(
            binding.unify(0x11, 1).is_err(),
            "two real values, one model value"
        );
        assert!(
            binding.unify(0x20, 0).is_err(),
            "a later real value, an earlier model one"
        );
        assert!(binding.unify(0x20, 3).is_ok());
        assert_eq!(binding.real_of(3), Some(0x20));
    }
}
