//! Billing: the catalogue and its taxes, invoices, renewals (the whole state machine) and
//! the reminders before a subscription ends.

pub mod catalogue;
pub mod invoice;
pub mod reminders;
pub mod renewal;
