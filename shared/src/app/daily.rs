//! The daily job, one composition for the reminders Lambda (an EventBridge schedule) and
//! the local server (hourly): the renewal reminders, then the notices of renewals a crashed
//! sender left. Both run, whatever the other's outcome.

use crate::domain::billing::{reminders, renewal};
use crate::{domain::services::Services, error::Result};

/// What one run did: reminders sent, renewals whose notices were completed.
pub struct DailyRun {
    /// The renewal reminders sent.
    pub reminders: Result<usize>,
    /// The renewals whose pending notices were sent.
    pub notices: Result<usize>,
}

impl DailyRun {
    /// Everything the run sent, or the first failure.
    pub fn total(self) -> Result<usize> {
        Ok(self.reminders? + self.notices?)
    }
}

/// Runs the daily job at the services' time.
pub async fn run(services: &Services) -> DailyRun {
    let reminders = reminders::run(services, services.now()).await;
    let notices = renewal::send_pending_notices(services).await;
    DailyRun { reminders, notices }
}
