//! The registered options-flow rules: one line per rule in [`flow_rules!`]'s
//! invocation below. The macro makes [`FlowState`], the state of every rule
//! for one active contract (a field per rule, no boxing, no dynamic
//! dispatch), and runs the rules in registration order.

use smallvec::SmallVec;

use super::config::DetectorConfig;
use super::rule::{FlowFinding, Print, Rule, Snapshot};
use super::{open_interest, premium, sweep};
use crate::messages::AnomalyKind;
use crate::option_ticker::OptionTicker;

/// What one print (or one snapshot) set off: at most one finding per rule.
pub type FlowFindings = SmallVec<[(AnomalyKind, FlowFinding); 2]>;

macro_rules! flow_rules {
    ($($field:ident: $rule:ty),+ $(,)?) => {
        /// Every registered rule's state for one active contract.
        #[derive(Debug, Clone, Default)]
        pub struct FlowState {
            $(
                #[doc = concat!("The state of `", stringify!($rule), "`.")]
                pub $field: <$rule as Rule>::State,
            )+
        }

        /// The kinds the registered rules raise, in registration order.
        pub const FLOW_KINDS: &[AnomalyKind] = &[$(<$rule as Rule>::KIND),+];

        impl FlowState {
            /// Runs every rule on one print.
            pub fn observe(&mut self, print: &Print, cfg: &DetectorConfig, out: &mut FlowFindings) {
                $(
                    if let Some(f) = <$rule as Rule>::observe(&mut self.$field, print, cfg) {
                        out.push((<$rule as Rule>::KIND, f));
                    }
                )+
            }

            /// True when some rule wants the contract's snapshot now.
            pub fn wants_snapshot(&mut self, print: &Print, cfg: &DetectorConfig) -> bool {
                let mut wants = false;
                $( wants |= <$rule as Rule>::wants_snapshot(&mut self.$field, print, cfg); )+
                wants
            }

            /// Hands the contract's snapshot to every rule.
            pub fn on_snapshot(&mut self, snap: &Snapshot, cfg: &DetectorConfig, out: &mut FlowFindings) {
                $(
                    if let Some(f) = <$rule as Rule>::on_snapshot(&mut self.$field, snap, cfg) {
                        out.push((<$rule as Rule>::KIND, f));
                    }
                )+
            }
        }

        /// The explanation of a finding by the rule that raises `kind`.
        pub fn explain(kind: AnomalyKind, finding: &FlowFinding, contract: &OptionTicker) -> Option<String> {
            $(
                if kind == <$rule as Rule>::KIND {
                    return Some(<$rule as Rule>::explain(finding, contract));
                }
            )+
            None
        }
    };
}

flow_rules! {
    premium: premium::Premium,
    sweep: sweep::Sweep,
    volume_over_oi: open_interest::VolumeOverOi,
}
