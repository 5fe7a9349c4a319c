//! What a write transaction remembers of its own reads.
//!
//! A write transaction holds the audit chain's head, and every writer takes the head first, so
//! no other transaction changes anything between two of its reads: a row it read once is the
//! same on the second read unless it changed the row itself. The methods that change these
//! rows inside a [`crate::WriteTx`] forget what is remembered about them. This matters when one
//! transaction files many submissions from the same few members (the submission writer): their
//! organization, regime choice and the upstream notifications of a vulnerability are read once.

use std::collections::HashMap;

use vulnshare_core::awareness::UpstreamNotification;
use vulnshare_core::organization::Organization;

use crate::awareness::{CorrelatedReport, VulnerabilityKeys};
use crate::obligation::ObligationRecord;
use crate::regime::{CustomRegimeSource, RegimeSettings};

/// Reads remembered for the rest of a write transaction.
#[derive(Default)]
pub(crate) struct Remembered {
    pub(crate) organizations: HashMap<String, Organization>,
    pub(crate) regime_settings: HashMap<String, Option<RegimeSettings>>,
    pub(crate) custom_regimes: Option<Vec<CustomRegimeSource>>,
    pub(crate) upstream_notifications: HashMap<VulnerabilityKeys, Vec<UpstreamNotification>>,
    /// Obligations in the database about a (party, subject); those about reports created in
    /// this transaction are kept apart (`obligation::Fresh`).
    pub(crate) obligations_about: HashMap<(String, String), Vec<ObligationRecord>>,
    /// Stored reports of others sharing keys with (keys, organization); reports created in
    /// this transaction and not yet written are added from memory on every read.
    pub(crate) reports_matching: HashMap<(VulnerabilityKeys, String), Vec<CorrelatedReport>>,
}

impl Remembered {
    /// Obligations in the database changed in this transaction.
    pub(crate) fn obligations_changed(&mut self) {
        self.obligations_about.clear();
    }

    /// Stored reports, or what they are found by, changed in this transaction.
    pub(crate) fn reports_changed(&mut self) {
        self.reports_matching.clear();
    }
}
